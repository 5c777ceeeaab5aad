"""One git worktree per plan, on a branch named after the plan.

The worktrees live in ``<repo>/.agent/worktrees/<slug>`` (kept out of git through
``.git/info/exclude``), so the user's checkout, its index and its untracked
files are never touched: git writes only the new worktree and its branch
``orchestrator/<slug>``. A plan that is not committed as it stands in the user's
checkout is copied into the new worktree and committed there, once, when the
worktree is made; later runs of the same line reuse the worktree as it is.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.paths import WORKTREES_DIR

if TYPE_CHECKING:  # GitPython only when a worktree is made: `status` lists them without it
    from orchestrator.store.git import Repo

BRANCH_PREFIX = "orchestrator/"
_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PlanWorktree:
    """Where one plan of a batch runs."""

    plan_rel: str
    slug: str
    path: Path
    branch: str


def slug_for(plan_rel: str, taken: set[str]) -> str:
    """A short, branch-safe name for the plan; unique within ``taken``."""
    stem = Path(plan_rel).stem.lower()
    slug = _UNSAFE.sub("-", stem).strip("-")[:40] or "plan"
    if slug in taken:
        slug = f"{slug}-{hashlib.sha256(plan_rel.encode()).hexdigest()[:6]}"
    return slug


def worktree_for(repo: Repo, plan_rel: str, slug: str) -> PlanWorktree:
    """Make (or find) the worktree of ``plan_rel``; the user's checkout stays as it is."""
    path = repo.root / WORKTREES_DIR / slug
    branch = BRANCH_PREFIX + slug
    repo.exclude_path(f"/{WORKTREES_DIR}/")
    if not (path / ".git").exists():
        repo.add_worktree(path, branch)
        _bring_plan(repo.root / plan_rel, path / plan_rel, plan_rel, slug)
    return PlanWorktree(plan_rel=plan_rel, slug=slug, path=path, branch=branch)


def _bring_plan(source: Path, target: Path, plan_rel: str, slug: str) -> None:
    data = source.read_bytes()
    if target.exists() and target.read_bytes() == data:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    from orchestrator.store.git import Repo

    Repo.open(target.parent).commit_paths(
        [plan_rel], f"{slug}: the plan as it stands in the main checkout"
    )
