"""A stop inside the commit transaction: git finishes it, or the next run clears what a
killed one left.

The milestone commit is published by one ``git update-ref --stdin`` transaction that
holds ``HEAD.lock``, ``refs/heads/main.lock`` and the record ref's lock. A ``git`` on
PATH pauses that transaction in git's ``reference-transaction`` hook (every lock
taken) until the test releases it, so a signal lands inside the window every time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from orchestrator.store.git_locks import clear_dead_run_locks, lock_files
from tests.chaos_helpers import (
    Trial,
    chaos_rules,
    new_trial,
    reaper,
    verify_done,
    wait_for,
)
from tests.conftest import git

__all__ = ["reaper"]  # the fixture, imported for pytest

MILESTONES = 2


@dataclass(frozen=True)
class SlowCommit:
    """The PATH directory of the pausing git and the files its hook talks through."""

    bin: Path
    mark: Path  # the hook's pid, once every lock of the transaction is held
    release: Path  # created by the test: the transaction may go on
    done: Path  # one line per paused transaction: finished, or stopped (by SIGTERM)


def install_slow_commit(directory: Path) -> SlowCommit:
    real = shutil.which("git")
    assert real is not None
    slow = SlowCommit(
        directory / "bin", directory / "hook.pid", directory / "release", directory / "done"
    )
    hooks = directory / "hooks"
    for d in (slow.bin, hooks):
        d.mkdir(parents=True)
    hook = hooks / "reference-transaction"
    hook.write_text(
        "#!/bin/sh\n"
        '[ "$1" = prepared ] || exit 0\n'
        "cat >/dev/null\n"
        f"trap 'echo stopped >> \"{slow.done}\"; exit 1' TERM\n"
        f'echo $$ > "{slow.mark}.tmp" && mv "{slow.mark}.tmp" "{slow.mark}"\n'
        "n=0\n"
        f'while [ ! -e "{slow.release}" ] && [ $n -lt 2400 ]; do n=$((n+1)); sleep 0.05; done\n'
        f'echo finished >> "{slow.done}"\n',
        encoding="utf-8",
    )
    shim = slow.bin / "git"
    shim.write_text(
        "#!/bin/sh\n"
        'case "$*" in *"commit (orchestrator)"*)\n'
        f'  exec "{real}" -c core.hooksPath="{hooks}" "$@" ;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    for script in (hook, shim):
        script.chmod(0o755)
    return slow


def _paused_trial(tmp_path: Path, lean: Path, reaper: list[Trial]) -> tuple[Trial, SlowCommit]:
    """A run whose first milestone commit is paused inside its transaction."""
    trial = new_trial(tmp_path / "t", lean, chaos_rules(MILESTONES), milestones=MILESTONES)
    reaper.append(trial)
    slow = install_slow_commit(tmp_path / "slow")
    trial.extra_env["PATH"] = f"{slow.bin}{os.pathsep}{os.environ['PATH']}"
    proc = trial.start("run")
    wait_for(lambda: slow.mark.exists() or proc.poll() is not None, 120, "the commit")
    assert proc.poll() is None, trial.output()
    return trial, slow


def _locks(trial: Trial) -> list[str]:
    return [str(p.relative_to(trial.repo / ".git")) for p in lock_files(trial.repo / ".git")]


def _events(trial: Trial) -> list[dict[str, object]]:
    state = trial.runs()[0]
    path = trial.repo / ".agent" / "runs" / state.run_id / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _loud(trial: Trial, command: str) -> subprocess.CompletedProcess[str]:
    """``command`` without ``-q``, so its warnings reach stderr."""
    argv = [a for a in trial.argv(command) if a != "-q"]
    return subprocess.run(
        argv, cwd=trial.repo, env=trial.env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_sigterm_inside_the_commit_transaction_lets_it_finish(
    tmp_path: Path, lean: Path, reaper: list[Trial]
) -> None:
    trial, slow = _paused_trial(tmp_path, lean, reaper)
    proc = trial.procs[-1]
    proc.send_signal(signal.SIGTERM)

    def events() -> list[object]:
        return [e["event"] for e in _events(trial)]

    wait_for(lambda: "signal_received" in events(), 60, "the run to see the signal")
    slow.release.touch()  # only now may the transaction go on: a stop must wait for it
    assert proc.wait(timeout=60) == 143, trial.output()
    assert slow.done.read_text().split() == ["finished"]  # git was not stopped inside it
    assert _locks(trial) == []
    assert "stop_waits_for_git" in events()
    state = trial.runs()[0]
    assert state.status == "interrupted"
    first, second = state.milestones
    assert (first.status, first.commit) == ("passed", git(trial.repo, "rev-parse", "HEAD").strip())
    assert (second.status, second.commit) == ("pending", None)
    assert trial.start("resume").wait(timeout=120) == 0, trial.output()
    verify_done(trial, milestones=MILESTONES)  # each milestone committed once


@pytest.mark.slow
def test_locks_of_a_killed_commit_are_cleared_once_no_git_works_in_the_repo(
    tmp_path: Path, lean: Path, reaper: list[Trial]
) -> None:
    """SIGKILL to the run and to its git (a kill of the whole tree) leaves git's lock
    files; the next run clears them, but not while a git process works in the repo."""
    trial, slow = _paused_trial(tmp_path, lean, reaper)
    trial.procs[-1].kill()
    trial.procs[-1].wait(timeout=30)
    os.killpg(os.getpgid(int(slow.mark.read_text())), signal.SIGKILL)  # git and its hook
    wait_for(lambda: not psutil.pid_exists(int(slow.mark.read_text())), 30, "git to die")
    left = _locks(trial)
    assert "HEAD.lock" in left, left
    assert "refs/heads/main.lock" in left, left
    assert [p for p in left if p.startswith("refs/orchestrator/runs/")], left
    slow.release.touch()

    # someone's git is working in the repository: nothing is removed, the run stops
    person = subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=trial.repo, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        refused = _loud(trial, "resume")
    finally:
        assert person.stdin is not None
        person.stdin.close()
        person.wait(timeout=30)
    assert refused.returncode == 2, refused.stderr
    assert "lock file" in refused.stderr, refused.stderr
    assert "HEAD.lock" in refused.stderr, refused.stderr
    assert _locks(trial) == left

    resumed = _loud(trial, "resume")
    assert resumed.returncode == 0, resumed.stderr + trial.output()
    warnings = [line for line in resumed.stderr.splitlines() if "stale_git_locks_removed" in line]
    assert len(warnings) == 1, resumed.stderr
    assert "HEAD.lock" in warnings[0], resumed.stderr
    assert _locks(trial) == []
    verify_done(trial, milestones=MILESTONES)


@pytest.mark.slow
def test_a_transaction_killed_after_moving_head_is_not_committed_again(
    tmp_path: Path, lean: Path, reaper: list[Trial]
) -> None:
    """git renames each lock into place in turn: killed after the branch moved and
    before the record was written, it leaves the record's lock, which holds the commit.
    Resume adopts that commit instead of committing the milestone a second time."""
    trial, slow = _paused_trial(tmp_path, lean, reaper)
    trial.procs[-1].kill()
    trial.procs[-1].wait(timeout=30)
    os.killpg(os.getpgid(int(slow.mark.read_text())), signal.SIGKILL)
    wait_for(lambda: not psutil.pid_exists(int(slow.mark.read_text())), 30, "git to die")
    dot_git = trial.repo / ".git"
    (dot_git / "refs/heads/main.lock").rename(dot_git / "refs/heads/main")  # git's step
    (dot_git / "HEAD.lock").unlink()  # HEAD names the branch: nothing to rename
    [record] = [p for p in _locks(trial) if p.startswith("refs/orchestrator/runs/")]
    moved = git(trial.repo, "rev-parse", "HEAD").strip()
    assert (dot_git / record).read_text().strip() == moved
    slow.release.touch()
    resumed = _loud(trial, "resume")
    assert resumed.returncode == 0, resumed.stderr + trial.output()
    assert "stale_git_locks_removed" in resumed.stderr
    verify_done(trial, milestones=MILESTONES)  # each milestone committed once
    assert trial.runs()[0].milestones[0].commit == moved  # the commit that moved HEAD


def _dead_lock(git_dir: Path, name: str, content: str, age: float) -> Path:
    path = git_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    when = time.time() - age
    os.utime(path, (when, when))
    return path


def test_only_locks_made_while_the_dead_run_lived_are_cleared(git_repo: Path) -> None:
    git_dir = git_repo / ".git"
    head = git(git_repo, "rev-parse", "HEAD").strip()
    record = "refs/orchestrator/runs/r1/m-31"
    older = _dead_lock(git_dir, "index.lock", "", age=3600)  # before the dead run began
    ours = _dead_lock(git_dir, "refs/heads/main.lock", f"{head}\n", age=60)
    recorded = _dead_lock(git_dir, f"{record}.lock", f"{head}\n", age=60)
    now = time.time()
    removed, kept = clear_dead_run_locks(git_repo, git_dir, since=now - 120, until=now)
    assert sorted(removed) == sorted([ours, recorded])
    assert kept == []
    assert older.exists()
    assert not ours.exists()
    assert not recorded.exists()
    # the record's lock held the commit it was about to record: it is put in place
    assert git(git_repo, "rev-parse", record).strip() == head
    assert git(git_repo, "rev-parse", "main").strip() == head  # the branch is untouched


def test_a_git_working_in_another_worktree_keeps_the_shared_ref_locks(
    git_repo: Path, tmp_path: Path
) -> None:
    """Branches are shared by every worktree: a git working in the main tree may hold
    a ref lock a dead run in a linked worktree could also have left."""
    linked = tmp_path / "linked"
    git(git_repo, "worktree", "add", "-q", "-b", "side", str(linked))
    linked_git_dir = Path(git(linked, "rev-parse", "--absolute-git-dir").strip())
    lock = _dead_lock(git_repo / ".git", "refs/heads/other.lock", "", age=10)
    person = subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=git_repo, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        now = time.time()
        removed, kept = clear_dead_run_locks(
            linked, linked_git_dir, since=now - 60, until=now, settle=0.2
        )
    finally:
        assert person.stdin is not None
        person.stdin.close()
        person.wait(timeout=30)
    assert (removed, kept) == ([], [lock])
    assert lock.exists()
    now = time.time()
    assert clear_dead_run_locks(linked, linked_git_dir, since=now - 60, until=now) == (
        [lock],
        [],
    )
