from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.errors import ExitCode, GitError, LockHeldError
from orchestrator.store.lock import RepoLock, lock_path, read_holder
from tests.conftest import git
from tests.lock_helpers import lock_holder


def test_take_and_release(git_repo: Path) -> None:
    assert read_holder(git_repo) is None
    with RepoLock(git_repo, plan="docs/plan.md") as lock:
        lock.set_run("20260101-000000-aaaa")
        holder = read_holder(git_repo)
        assert holder is not None
        assert holder.pid == os.getpid()
        assert holder.host == socket.gethostname()
        assert holder.plan == "docs/plan.md"
        assert holder.run_id == "20260101-000000-aaaa"
    assert read_holder(git_repo) is None
    with RepoLock(git_repo, plan="docs/plan.md"):  # can be taken again
        pass


def test_second_taker_is_refused_naming_the_holder(git_repo: Path) -> None:
    with lock_holder(git_repo, "docs/plan.md", "20260101-000000-aaaa") as proc:
        with pytest.raises(LockHeldError) as info:
            RepoLock(git_repo, plan="docs/other.md").acquire()
        assert info.value.exit_code == ExitCode.LOCKED
        assert int(info.value.exit_code) == 75
        message = info.value.message
        assert f"pid {proc.pid}" in message
        assert f"`kill -INT {proc.pid}`" in message
        assert socket.gethostname() in message
        assert "plan docs/plan.md" in message
        assert "20260101-000000-aaaa" in message
        holder = read_holder(git_repo)  # status reads it without taking the lock
        assert holder is not None
        assert holder.pid == proc.pid


def test_sigkilled_holder_lock_is_taken_over(git_repo: Path) -> None:
    with lock_holder(git_repo, "docs/plan.md") as proc:
        dead_pid = proc.pid
        proc.kill()
        proc.wait()
    # the dead holder's info is still in the file, but nobody holds the flock
    info = json.loads(lock_path(git_repo).read_text(encoding="utf-8"))
    assert info["pid"] == dead_pid
    assert read_holder(git_repo) is None
    with RepoLock(git_repo, plan="docs/next.md") as lock:
        assert lock.holder is not None
        holder = read_holder(git_repo)
        assert holder is not None
        assert holder.pid == os.getpid()
        assert holder.plan == "docs/next.md"


def test_not_a_repo(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not the top of a git work tree"):
        RepoLock(tmp_path, plan="p.md")


def test_worktree_gitdir_file(git_repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(git_repo, "worktree", "add", "-q", str(wt), "-b", "wt")
    assert (wt / ".git").is_file()
    with RepoLock(wt, plan="p.md"):
        assert lock_path(wt).parent.name == "wt"
        assert read_holder(wt) is not None


def test_a_lock_still_held_after_its_holder_died_names_who_holds_it(git_repo: Path) -> None:
    """A child the dead holder started, not yet exec'd, shares its lock: the refusal says
    the named holder is gone and names the process that still has the file open."""
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that names nobody now
    path = git_repo / ".git" / "orchestrator.lock"
    holder = {"pid": dead.pid, "host": socket.gethostname(), "started_at": 1.0, "plan": "p.md"}
    script = (
        "import fcntl, json, os, sys\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o644)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        f"os.write(fd, json.dumps({holder!r}).encode())\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"
        with pytest.raises(LockHeldError) as info:
            RepoLock(git_repo, plan="p.md").acquire()
        message = info.value.message
        assert f"pid {dead.pid} on host" in message
        assert f"that process is gone, and the lock is held by pid {child.pid} (" in message
    finally:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.close()
        child.wait()
        child.stdout.close()
