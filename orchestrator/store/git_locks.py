"""git's own lock files in a repository, and clearing the ones a dead run left.

While git writes the index, HEAD or a ref it holds ``<file>.lock`` beside it
(``index.lock``, ``HEAD.lock``, ``packed-refs.lock``, ``refs/**/<name>.lock``)
and removes it when done, also on SIGTERM. A git killed with SIGKILL (a kill
of the whole process tree, an out-of-memory kill) leaves it behind, and every
later git write in the repository fails until someone removes it.

``doctor`` and the preflight of ``run``/``resume`` report every such file
(:func:`lock_files`). A run that takes over the repository lock from a run that
died holding it clears them itself (:func:`clear_dead_run_locks`), but only
those made while the dead run lived, and only when no git process is working in
the repository or any of its worktrees (a person may be running git there right now): then no live
process can own them. A record ref's lock (``refs/orchestrator/runs/...``)
holds the commit it was about to record; it is put in place, as git would have
done (the record counts only if HEAD's history has that commit), so a milestone
whose commit moved HEAD is not committed a second time.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

_SHA = re.compile(rb"[0-9a-f]{40}([0-9a-f]{24})?\n?")
RECORD_REFS = Path("refs") / "orchestrator" / "runs"
SETTLE = 3.0  # seconds to let git processes still working in the repository end


def common_dir(git_dir: Path) -> Path:
    """The directory a worktree's git directory shares (refs, objects); itself otherwise."""
    try:
        text = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return git_dir
    path = Path(text)
    return (path if path.is_absolute() else git_dir / path).resolve()


def lock_files(git_dir: Path) -> list[Path]:
    """git's lock files present in ``git_dir`` (a worktree's too) and its common directory."""
    common = common_dir(git_dir)
    found = [git_dir / "index.lock", git_dir / "HEAD.lock", common / "packed-refs.lock"]
    for refs in dict.fromkeys([common / "refs", git_dir / "refs"]):
        if refs.is_dir():
            found += sorted(refs.rglob("*.lock"))
    return [p for p in found if p.is_file()]


def repository_places(common: Path) -> list[Path]:
    """The common git directory and every work tree of the repository (the main one and
    each linked worktree): a git working in any of them may hold a shared ref's lock."""
    places = [common]
    if common.name == ".git":
        places.append(common.parent)
    for gitdir in sorted((common / "worktrees").glob("*/gitdir")):
        try:
            dot_git = Path(gitdir.read_text(encoding="utf-8").strip())
        except OSError:
            continue
        places.append(dot_git.parent)
    return [p.resolve() for p in places]


def git_processes_in(places: Sequence[Path]) -> list[psutil.Process]:
    """Live git processes working inside one of ``places`` (by their working directory);
    a git process whose directory cannot be read counts: it may be working here."""
    import psutil  # only when a lock file is there: start-up stays cheap

    found: list[psutil.Process] = []
    for proc in psutil.process_iter(["name"]):
        name = proc.info["name"] or ""
        if name != "git" and not name.startswith("git-"):
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            cwd = Path(proc.cwd())
        except psutil.AccessDenied:
            found.append(proc)
            continue
        except psutil.Error:
            continue
        if any(cwd == p or p in cwd.parents for p in places):
            found.append(proc)
    return found


def clear_dead_run_locks(
    work_tree: Path, git_dir: Path, *, since: float, until: float, settle: float = SETTLE
) -> tuple[list[Path], list[Path]]:
    """Remove the git lock files a dead run left: those removed, and those kept because
    a git process works in the repository (any doubt keeps them all).

    Only files last written in ``[since, until]`` (the dead run's life, up to our
    taking over) count, and only when no git process works in the repository, after
    waiting up to ``settle`` seconds for those that do (a git the dead run started
    runs on in its own session, and removes its own lock when it ends)."""
    locks = [p for p in lock_files(git_dir) if _within(p, since - 1.0, until)]
    if not locks:
        return [], []
    places = [work_tree.resolve(), git_dir.resolve(), *repository_places(common_dir(git_dir))]
    busy = git_processes_in(places)
    if busy:
        import psutil

        psutil.wait_procs(busy, timeout=settle)
        if git_processes_in(places):
            return [], [p for p in locks if p.exists()]
    removed: list[Path] = []
    records = common_dir(git_dir) / RECORD_REFS
    for path in locks:
        with contextlib.suppress(FileNotFoundError):
            if records in path.parents and _holds_sha(path):  # git's own last step
                os.replace(path, path.with_name(path.name.removesuffix(".lock")))
            else:
                path.unlink()
            removed.append(path)
    return removed, []


def _within(path: Path, since: float, until: float) -> bool:
    try:
        return since <= path.stat().st_mtime <= until
    except OSError:
        return False


def _holds_sha(path: Path) -> bool:
    try:
        return _SHA.fullmatch(path.read_bytes()) is not None
    except OSError:
        return False
