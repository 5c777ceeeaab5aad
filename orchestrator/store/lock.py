"""One run per repository: an exclusive ``flock`` on ``.git/orchestrator.lock``.

The kernel releases a ``flock`` when its holder dies, even by SIGKILL, so a
lock is never left behind by a dead process; the JSON in the file only says
who holds it. Readers (``orchestrator status``) never take the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ConfigDict, ValidationError

from orchestrator.errors import GitError, LockHeldError
from orchestrator.paths import git_dir_of

LOCK_NAME = "orchestrator.lock"


class LockHolder(BaseModel):
    """Who holds (or last held) the repository lock."""

    model_config = ConfigDict(extra="ignore")

    pid: int
    host: str
    started_at: float
    plan: str
    run_id: str | None = None

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


def _parse_holder(text: str) -> LockHolder | None:
    if not text.strip():
        return None
    try:
        return LockHolder.model_validate_json(text)
    except ValidationError:
        return None


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

    def __init__(self, repo: Path, *, plan: str) -> None:
        self.repo = repo
        self.plan = plan
        self.path = lock_path(repo)
        self.holder: LockHolder | None = None
        self._fd: int | None = None

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
        self._write()
        if previous is not None:
            import structlog

            structlog.get_logger().info(
                "lock_taken_over", previous_pid=previous.pid, previous_host=previous.host
            )

    def set_run(self, run_id: str) -> None:
        """Record the run id in the holder info."""
        if self.holder is None:
            raise RuntimeError("set_run() on a lock that is not held")
        self.holder = self.holder.model_copy(update={"run_id": run_id})
        self._write()

    def release(self) -> None:
        """Clear the holder info and release the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the only descriptor releases the flock
        self.holder = None

    def _write(self) -> None:
        assert self._fd is not None
        assert self.holder is not None
        data = (json.dumps(self.holder.model_dump()) + "\n").encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)
