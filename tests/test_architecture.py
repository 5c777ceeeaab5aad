"""The package keeps the shape docs/architecture.md describes."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "orchestrator"
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "demo/project" not in p.as_posix())


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_no_module_is_over_400_lines() -> None:
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_imports_the_command_line() -> None:
    users = [
        p.relative_to(PACKAGE).as_posix()
        for p in _modules()
        if p.name != "__main__.py" and "orchestrator.cli" in _imports(p)
    ]
    assert users == []


def test_only_the_store_imports_gitpython() -> None:
    users = [
        p.relative_to(PACKAGE).as_posix()
        for p in _modules()
        if any(name == "git" or name.startswith("git.") for name in _imports(p))
    ]
    assert users == ["store/git.py"]
