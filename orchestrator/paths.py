"""Where things are: the project-local codex install, the package's data files, a
repository's runs and a plan inside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestrator.errors import PlanError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
LOCAL_CODEX = PROJECT_DIR / ".codex-cli" / "node_modules" / ".bin" / "codex"
SCHEMAS_DIR = PACKAGE_DIR / "milestone" / "schemas"
PROMPTS_DIR = PACKAGE_DIR / "milestone" / "prompts"
# Where a repository keeps its runs (state, logs, transcripts); never committed.
RUNS_DIR = Path(".agent") / "runs"
# Where `run A B --parallel N` keeps one git worktree per plan (fleet/worktrees.py).
WORKTREES_DIR = ".agent/worktrees"


def git_dir_of(dot_git: Path) -> Path | None:
    """The git directory a ``.git`` entry stands for, or None if it is not a real one.

    A worktree's ``.git`` is a file naming its git directory; a repository's is a
    directory with a ``HEAD``. (codex's sandbox leaves empty ``.git`` mount points
    behind in writable roots such as /tmp: those are not repositories.)
    """
    if dot_git.is_file():
        try:
            text = dot_git.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not text.startswith("gitdir:"):
            return None
        target = Path(text.removeprefix("gitdir:").strip())
        return target if target.is_absolute() else (dot_git.parent / target).resolve()
    return dot_git if (dot_git / "HEAD").is_file() else None


def verify_cache() -> Path:
    """Where verification copies live: ``orchestrator/verify`` under the user's cache
    directory (``$XDG_CACHE_HOME`` or ``~/.cache``), made if need be (OSError if it cannot)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = (Path(xdg) if xdg else Path.home() / ".cache") / "orchestrator" / "verify"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return base


def in_git_work_tree(path: Path) -> bool:
    """Whether ``path`` is inside a git work tree, without starting git."""
    path = path.resolve()
    return any(git_dir_of(p / ".git") is not None for p in (path, *path.parents))


def find_codex(configured: str | None = None) -> str | None:
    """The codex executable: configured, else the pinned project-local install, else PATH."""
    if configured:
        return configured
    if LOCAL_CODEX.exists():
        return str(LOCAL_CODEX)
    return shutil.which("codex")


def plan_location(root: Path, plan_path: Path) -> tuple[Path, str]:
    """The plan's absolute path and its POSIX path relative to the repository at ``root``.

    A relative ``plan_path`` is looked for under ``root`` first, then under the current
    directory; a plan outside the repository is refused (PlanError).
    """
    candidates = (
        [plan_path] if plan_path.is_absolute() else [root / plan_path, Path.cwd() / plan_path]
    )
    found = next((p.resolve() for p in candidates if p.exists()), candidates[0].resolve())
    try:
        rel = found.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise PlanError(
            f"the plan {plan_path} is outside the repository {root}; plans are committed with "
            "the code, so put it inside the repository (e.g. under .agent/plans/)"
        ) from None
    return found, rel


def existing_worktrees(root: Path) -> list[Path]:
    """The plan worktrees of the repository at ``root``, by name."""
    base = root / WORKTREES_DIR
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if (p / ".git").exists())
