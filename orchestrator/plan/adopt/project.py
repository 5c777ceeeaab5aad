"""The project's own test command, proposed when the plan names no check (a suggestion).

Read from the files at the repository root, never run: ``pyproject.toml`` /
``pytest.ini`` / ``setup.cfg`` (pytest), ``package.json`` scripts, ``Cargo.toml``,
``go.mod``, a ``Makefile`` with a ``test`` target.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from orchestrator.plan.adopt.proposal import DerivedCheck
from orchestrator.plan.adopt.safety import judge_line
from orchestrator.plan.adopt.verdict import Kind

_MAKE_TEST = re.compile(r"^(test|check)\s*:", re.MULTILINE)
_NPM_DEFAULT = "no test specified"


def repo_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git``, if any."""
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _node_runner(root: Path) -> str:
    if (root / "pnpm-lock.yaml").exists():
        return "pnpm"
    if (root / "yarn.lock").exists():
        return "yarn"
    if (root / "bun.lockb").exists() or (root / "bun.lock").exists():
        return "bun run"
    return "npm run"


def _candidates(root: Path) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pyproject = _read(root / "pyproject.toml")
    has_tests = (root / "tests").is_dir() or (root / "test").is_dir()
    if (
        "[tool.pytest" in pyproject
        or (root / "pytest.ini").exists()
        or (pyproject and has_tests and "pytest" in pyproject)
    ):
        found.append(("python -m pytest -q", "pytest is configured in pyproject.toml"))
    package = _read(root / "package.json")
    if package:
        try:
            scripts = json.loads(package).get("scripts", {})
        except (ValueError, AttributeError):
            scripts = {}
        test = scripts.get("test") if isinstance(scripts, dict) else None
        if isinstance(test, str) and _NPM_DEFAULT not in test:
            found.append((f"{_node_runner(root)} test", "package.json has a `test` script"))
    if (root / "Cargo.toml").exists():
        found.append(("cargo test", "the project is a Cargo package"))
    if (root / "go.mod").exists():
        found.append(("go test ./...", "the project is a Go module"))
    makefile = _read(root / "Makefile")
    m = _MAKE_TEST.search(makefile)
    if m:
        found.append((f"make {m.group(1)}", f"the Makefile has a `{m.group(1)}` target"))
    return found


def suggestions(plan_path: Path) -> list[DerivedCheck]:
    """Plan-level checks suggested from the project files of the plan's repository."""
    root = repo_root(plan_path.resolve().parent)
    if root is None:
        return []
    out: list[DerivedCheck] = []
    for command, why in _candidates(root)[:1]:
        if judge_line(command).kind is not Kind.CHECK:
            continue
        out.append(
            DerivedCheck(
                command=command,
                line=0,
                origin="project files",
                milestone=None,
                why=f"the project's own test command ({why})",
                suggestion=True,
            )
        )
    return out
