"""A separate working copy of the tree the checks judge, refreshed in place.

The copy lives outside the repository (a run-owned scratch directory), has a
small ``.git`` of its own that borrows the repository's objects (git
alternates: nothing is copied), and is moved from one tree to the next with
``git reset --hard`` (only changed files are written) and ``git clean -ffdx``
(whatever a previous round's checks left behind goes, except the linked
environment and the caches named in ``keep``). A 5,000-file tree refreshes in
a few hundredths of a second once it exists.

Environment directories (``.venv``, ``node_modules``) are gitignored in the
repository, so they are not in the tree: the copy gets a symbolic link to the
repository's own directory. Under the sandbox that directory is outside the
writable workspace, so checks can read it but not change it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import structlog

from orchestrator.store.git import Repo
from orchestrator.store.git_locks import lock_files

log = structlog.get_logger()

_IDENTITY = {
    "GIT_AUTHOR_NAME": "orchestrator",
    "GIT_AUTHOR_EMAIL": "orchestrator@localhost",
    "GIT_COMMITTER_NAME": "orchestrator",
    "GIT_COMMITTER_EMAIL": "orchestrator@localhost",
}


class WorkCopy:
    """One working copy at ``root`` of trees from ``repo``."""

    def __init__(self, repo: Repo, root: Path, environment: Sequence[str] = ()) -> None:
        self.repo = repo
        self.root = root
        self.environment = [e.strip("/") for e in environment if e.strip("/")]
        self.git_dir = root / ".git"
        self.tree: str | None = None

    def _git(self, *args: str, env: dict[str, str] | None = None) -> str:
        return self.repo.git(
            f"--git-dir={self.git_dir}", f"--work-tree={self.root}", *args, env=env
        )

    def _init(self) -> None:
        alternates = self.git_dir / "objects" / "info" / "alternates"
        if alternates.is_file():  # written last: a copy killed while being made is redone
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.repo.git("init", "-q", str(self.root))
        alternates.write_text(f"{self.repo.objects_dir}\n", encoding="utf-8")

    def _clear_stale_locks(self) -> None:
        """Remove git lock files a killed run left in the copy (``HEAD.lock`` made every
        later reset fail). Only the run that holds the repository lock uses its copy."""
        for stale in lock_files(self.git_dir):
            stale.unlink(missing_ok=True)

    def checkout(self, tree: str) -> None:
        """Make the copy hold exactly ``tree`` plus the linked environment."""
        self._init()
        self._clear_stale_locks()
        commit = self._git("commit-tree", tree, "-m", "verdict tree", env=dict(_IDENTITY))
        self._reset(commit)
        self.tree = tree

    def checkout_commit(self, commit: str) -> None:
        """Make the copy hold exactly the tree of ``commit`` (one of the repository's,
        e.g. a checkpoint: no new commit object, no lookup of its tree first)."""
        self._init()
        self._clear_stale_locks()
        self._reset(commit)
        self.tree = None

    def _reset(self, commit: str) -> None:
        self._git("reset", "-q", "--hard", commit)
        excludes = [f"--exclude=/{name}" for name in self.environment]
        self._git("clean", "-ffdxq", *excludes)
        self._link_environment()

    def _link_environment(self) -> None:
        for name in self.environment:
            source = self.repo.root / name
            target = self.root / name
            if target.is_symlink():
                if not source.exists():
                    target.unlink()
                continue
            if target.exists() or not source.exists():
                continue  # the tree has its own (tracked) one, or the repo has none
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(source, target, target_is_directory=source.is_dir())
            log.debug("verify_environment_linked", path=name)
