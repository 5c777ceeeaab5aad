"""One run per repository: an exclusive ``flock`` on ``.git/orchestrator.lock``.

The kernel releases a ``flock`` when its holder dies, even by SIGKILL, so a
lock is never left behind by a dead process; the JSON in the file only says
who holds it. Readers (``orchestrator status``) never take the lock.

Light to import (standard library only): the early exits of ``run`` and ``resume``
(see :mod:`orchestrator.run.early`) take the lock before the run machinery is loaded.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from orchestrator.errors import GitError, LockHeldError
from orchestrator.paths import git_dir_of

LOCK_NAME = "orchestrator.lock"


class LockHolder(NamedTuple):
    """Who holds (or last held) the repository lock."""

    pid: int
    host: str
    started_at: float
    plan: str
    run_id: str | None = None

    @classmethod
    def from_json(cls, text: str) -> LockHolder | None:
        """The holder a lock file's text names; None for an empty or malformed one
        (unknown keys are ignored)."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        pid, host, started, plan = (data.get(k) for k in ("pid", "host", "started_at", "plan"))
        run_id = data.get("run_id")
        if (
            isinstance(pid, int)
            and not isinstance(pid, bool)
            and isinstance(host, str)
            and isinstance(started, int | float)
            and not isinstance(started, bool)
            and isinstance(plan, str)
            and (run_id is None or isinstance(run_id, str))
        ):
            return cls(pid=pid, host=host, started_at=float(started), plan=plan, run_id=run_id)
        return None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()

    @property
    def alive(self) -> bool:
        """False when the holder is known to be gone (same host, no such pid)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at))
        run = f", run {self.run_id}" if self.run_id else ""
        return f"pid {self.pid} on host {self.host} since {since} (plan {self.plan}{run})"


def git_dir(repo: Path) -> Path:
    """The repository's git directory, without starting git (worktrees included)."""
    found = git_dir_of(repo / ".git")
    if found is not None:
        return found
    raise GitError(f"{repo} is not the top of a git work tree (no .git found)")


def lock_path(repo: Path) -> Path:
    return git_dir(repo) / LOCK_NAME


def _openers(path: Path) -> str:
    """The processes that have ``path`` open (Linux ``/proc``), for a lock whose named
    holder is dead: a child it started still shares the lock."""
    found = []
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.path.realpath(fd) == str(path) for fd in fds.iterdir()):
                command = (fds.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found.append(
                    f"pid {fds.parent.name} ({command.decode(errors='replace')[:80].strip()})"
                )
        except OSError:
            continue
    return ", ".join(found) or "a process this host does not show"


def _parse_holder(text: str) -> LockHolder | None:
    return LockHolder.from_json(text) if text.strip() else None


def read_holder(repo: Path) -> LockHolder | None:
    """The live holder of the lock, or None (no lock, released, or its process is gone)."""
    try:
        path = lock_path(repo)
        text = path.read_text(encoding="utf-8")
    except (OSError, GitError):
        return None
    holder = _parse_holder(text)
    return holder if holder is not None and holder.alive else None


class RepoLock:
    """Context manager holding the repository lock for one run."""

    def __init__(self, repo: Path, *, plan: str, brief: bool = False) -> None:
        """``brief``: held for an early exit's decision (see :mod:`orchestrator.run.early`),
        before logging is configured: no holder info is written (no fsync), and a dead
        holder's lock is taken without logging or clearing up after it: it stays on
        record (:attr:`dead_holder`) for the run that follows."""
        self.repo = repo
        self.plan = plan
        self.brief = brief
        self.path = lock_path(repo)
        self.holder: LockHolder | None = None
        self._fd: int | None = None
        self._dead: LockHolder | None = None  # kept on release: its git locks are still there

    def __enter__(self) -> RepoLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise LockHeldError naming the holder."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
                os.close(fd)
                holder = _parse_holder(text)
                who = holder.describe() if holder else "a process that has not written its info yet"
                if holder is not None and not holder.alive:
                    who += f"; that process is gone, and the lock is held by {_openers(self.path)}"
                stop = f"`kill -INT {holder.pid}`" if holder else "`kill -INT` on its pid"
                raise LockHeldError(
                    f"another run holds the lock of {self.repo}: {who}. Only one run per "
                    f"repository at a time; wait for it to end, or stop it with {stop}. "
                    "`orchestrator status` shows its progress."
                ) from None
            # Re-check after taking it: the file must still be the one at the path.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = _parse_holder(os.pread(fd, 65536, 0).decode("utf-8", "replace"))
        self._fd = fd
        self.holder = LockHolder(
            pid=os.getpid(), host=socket.gethostname(), started_at=time.time(), plan=self.plan
        )
        if not self.brief:
            self._write()
        if previous is not None and not self.brief:  # it died holding it
            self._after_dead(previous)
        elif previous is not None:  # an early exit: the dead holder stays on record for
            self._dead = previous  # the run that follows, which clears what it left

    def _after_dead(self, previous: LockHolder) -> None:
        """Log the take-over; remove the git lock files the dead holder's git left
        (see :mod:`orchestrator.store.git_locks` for when that is safe)."""
        import structlog

        log = structlog.get_logger()
        log.info("lock_taken_over", previous_pid=previous.pid, previous_host=previous.host)
        if previous.host != socket.gethostname():  # its git processes are not visible here
            return
        from orchestrator.store.git_locks import clear_dead_run_locks

        removed, kept = clear_dead_run_locks(
            self.repo, self.path.parent, since=previous.started_at, until=time.time()
        )
        self._dead = previous if kept else None  # the next run decides again
        if removed:
            log.warning(
                "stale_git_locks_removed",
                paths=[str(p) for p in removed],
                dead_run_pid=previous.pid,
            )

    @property
    def dead_holder(self) -> LockHolder | None:
        """The holder that died holding the lock, while it stays on record."""
        return self._dead

    def set_run(self, run_id: str) -> None:
        """Record the run id in the holder info."""
        if self.holder is None:
            raise RuntimeError("set_run() on a lock that is not held")
        self.holder = self.holder._replace(run_id=run_id)
        self._write()

    def release(self) -> None:
        """Clear the holder info and release the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            if self._dead is not None:
                os.pwrite(fd, (json.dumps(self._dead.as_dict()) + "\n").encode("utf-8"), 0)
        finally:
            os.close(fd)  # closing the only descriptor releases the flock
        self.holder = None

    def _write(self) -> None:
        assert self._fd is not None
        assert self.holder is not None
        data = (json.dumps(self.holder.as_dict()) + "\n").encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)
