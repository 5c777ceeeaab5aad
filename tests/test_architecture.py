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


# Where processes may start: the process layer, git's module (its processes are run by
# store/git_calls.py), the fakes that start what they fake, and the demo project's own
# tests (they are the demo's, not ours).
_MAY_START = ("process/", "store/git.py", "store/git_calls.py", "testing/", "demo/project/")
_PROCESS_MODULES = ("subprocess", "multiprocessing", "pty")
_STARTERS = {
    "os": ("spawn", "exec", "fork", "posix_spawn", "system", "popen"),
    "asyncio": ("create_subprocess",),
    "anyio": ("open_process", "run_process"),
}


def _starts_processes(path: Path) -> list[str]:
    """What in ``path`` can start a process: imports of the process modules, calls
    such as ``os.execvp`` or ``anyio.open_process``, and those names imported bare."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[tuple[str, str]] = []
        if isinstance(node, ast.Import):
            names = [(a.name.split(".")[0], "") for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [(node.module.split(".")[0], a.name) for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = [(node.value.id, node.attr)]
        for module, attr in names:
            if module in _PROCESS_MODULES or attr.startswith(_STARTERS.get(module, ("\0",))):
                found.append(f"{module}.{attr}" if attr else module)
    return found


def test_only_the_process_layer_and_git_start_processes() -> None:
    starters = {
        rel: found
        for p in PACKAGE.rglob("*.py")
        if not (rel := p.relative_to(PACKAGE).as_posix()).startswith(_MAY_START)
        and (found := _starts_processes(p))
    }
    assert starters == {}


def test_the_process_check_sees_each_way_to_start_one(tmp_path: Path) -> None:
    cases = {
        "import subprocess": ["subprocess"],
        "from subprocess import run": ["subprocess.run"],
        "import os\nos.execvp('x', ['x'])": ["os.execvp"],
        "from os import posix_spawnp": ["os.posix_spawnp"],
        "import anyio\nanyio.open_process(['x'])": ["anyio.open_process"],
        "import asyncio\nasyncio.create_subprocess_exec('x')": ["asyncio.create_subprocess_exec"],
        "import os\nos.getpid()\nimport anyio\nanyio.sleep(1)": [],
    }
    for source, expected in cases.items():
        path = tmp_path / "m.py"
        path.write_text(source, encoding="utf-8")
        assert _starts_processes(path) == expected, source
