"""``orchestrator init [DIR]``: add the ExecPlan scaffolding to a repository.

Adds ``.agent/PLANS.md`` (how to write an ExecPlan), ``.agent/plans/TEMPLATE.md``
(a plan to copy), ``.agent/orchestrator.toml`` (settings) and an ``AGENTS.md``
section pointing at the plans. Nothing that exists is overwritten: an existing
``AGENTS.md`` gets the section appended unless its marker is already there.
The files come from the package's ``templates/`` directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import UsageError
from orchestrator.paths import PACKAGE_DIR
from orchestrator.ui import console

TEMPLATES_DIR = PACKAGE_DIR / "templates"
AGENTS_MARKER = "<!-- orchestrator:plans -->"

# (target path in the repository, template file name)
FILES: tuple[tuple[str, str], ...] = (
    (".agent/PLANS.md", "PLANS.md"),
    (".agent/plans/TEMPLATE.md", "TEMPLATE.md"),
    (".agent/orchestrator.toml", "orchestrator.toml"),
)


@dataclass(frozen=True)
class InitAction:
    """What init did to one path: ``created``, ``appended`` or ``skipped`` (with why)."""

    path: str
    action: str
    note: str = ""


def template_text(name: str) -> str:
    """A packaged template's text."""
    path = TEMPLATES_DIR / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"the package template {name} is missing ({exc.strerror})") from None


def _write_new(directory: Path, relative: str, text: str) -> InitAction:
    target = directory / relative
    if target.exists():
        return InitAction(relative, "skipped", "exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as f:
        f.write(text)
    return InitAction(relative, "created")


def _agents_section(directory: Path) -> InitAction:
    section = template_text("AGENTS-section.md")
    target = directory / "AGENTS.md"
    if not target.exists():
        return _write_new(directory, "AGENTS.md", "# AGENTS.md\n\n" + section)
    current = target.read_text(encoding="utf-8")
    if AGENTS_MARKER in current:
        return InitAction("AGENTS.md", "skipped", "already has the ExecPlans section")
    separator = "" if current.endswith("\n\n") else ("\n" if current.endswith("\n") else "\n\n")
    with target.open("a", encoding="utf-8") as f:
        f.write(separator + section)
    return InitAction("AGENTS.md", "appended", "ExecPlans section")


def scaffold(directory: Path) -> list[InitAction]:
    """Add the scaffolding to ``directory``; what was done to each path."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    actions = [_write_new(directory, target, template_text(name)) for target, name in FILES]
    actions.append(_agents_section(directory))
    return actions


def init_project(directory: Path) -> int:
    """``orchestrator init``: scaffold ``directory`` and print what was created or skipped."""
    for action in scaffold(directory):
        note = f" ({action.note})" if action.note else ""
        console.out(f"{action.action:<8} {action.path}{note}")
    return 0
