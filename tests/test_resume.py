"""Resume after a crash: continue from the last completed transition, reuse the codex
thread, keep the work in the tree, never commit twice, leave nothing running.

Each test kills a real ``python -m orchestrator`` subprocess (its own session) with
SIGKILL at a known point, found by polling files the fake codex writes.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from orchestrator.store.state import save_state, state_path
from tests.chaos_helpers import (
    PLAN_REL,
    Trial,
    describe,
    git,
    implement,
    invocations,
    new_trial,
    reaper,
    rule,
    verify_done,
    wait_for,
    wait_untagged,
)

__all__ = ["reaper"]  # the fixture, imported for pytest

HANG = {"kind": "hang", "after_commands": True}


def _kill_when(trial: Trial, proc: subprocess.Popen[bytes], ready: Path) -> None:
    """SIGKILL the orchestrator once ``ready`` exists."""
    wait_for(lambda: ready.exists() or proc.poll() is not None, 60, f"{ready.name}")
    assert proc.poll() is None, trial.output()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def _finish(trial: Trial, command: str = "resume") -> None:
    proc = trial.start(command)
    assert proc.wait(timeout=90) == 0, trial.output()


@pytest.mark.slow
def test_killed_mid_repair_resumes_the_thread_and_keeps_the_work(
    tmp_path: Path, fake_codex: Path, reaper: list[Trial]
) -> None:
    """Killed while a repair step runs: resume repairs again on the same codex thread,
    with the implement step's work still in the tree, and commits once."""
    rules = [
        implement(1, "echo draft > m1.txt; echo kept > notes.txt"),
        rule(
            "repair-hangs", "step=repair milestone=1 ", "touch .git/repairing", fault=HANG, times=1
        ),
        rule("repair", "step=repair milestone=1 ", "echo done > m1.txt"),
    ]
    trial = new_trial(
        tmp_path / "t", fake_codex, rules, milestones=1, checks={1: "grep -qx done m1.txt"}
    )
    reaper.append(trial)
    _kill_when(trial, trial.start("run"), trial.repo / ".git" / "repairing")
    state = trial.runs()[0]
    ms = state.milestones[0]
    assert (state.status, ms.phase, ms.attempts) == ("running", "reviewed", 0)
    thread = ms.thread_id
    assert thread is not None
    _finish(trial)
    calls = [(c["rule"], c["resumed"], c["thread_id"]) for c in invocations(trial)]
    assert calls == [
        ("implement-1", False, thread),
        ("repair-hangs", True, thread),
        ("repair", True, thread),
    ]
    body = git(trial.repo, "log", "-1", "--skip=1", "--format=%B")
    assert f"Codex-Thread: {thread}" in body
    assert "Attempts: 2" in body  # the killed repair was not counted as an attempt
    files = git(trial.repo, "show", "--name-only", "--format=", "HEAD~1").split()
    assert sorted(files) == [PLAN_REL, "m1.txt", "notes.txt"]
    left = wait_untagged(trial.tag, timeout=30.0)  # returns once none is left
    assert not left, ("the killed run's codex outlived the resumed run", describe(left))


@pytest.mark.slow
def test_killed_mid_implement_continues_from_the_tree(
    tmp_path: Path, fake_codex: Path, reaper: list[Trial]
) -> None:
    """Killed while implementing: resume implements again, told that earlier work may be
    in the tree, and that work goes into the milestone's commit."""
    rules = [
        implement(1, "echo half > part.txt; touch .git/started", fault=HANG, name="first", times=1),
        implement(1, "echo 1 > m1.txt", name="again"),
    ]
    trial = new_trial(tmp_path / "t", fake_codex, rules, milestones=1)
    reaper.append(trial)
    proc = trial.start("run")
    _kill_when(trial, proc, trial.repo / ".git" / "started")
    # the same `run` line continues the unfinished run (the nightly recipe)
    _finish(trial, "run")
    files = git(trial.repo, "show", "--name-only", "--format=", "HEAD~1").split()
    assert sorted(files) == [PLAN_REL, "m1.txt", "part.txt"]
    again = [c for c in invocations(trial) if c["rule"] == "again"]
    assert len(again) == 1
    left = wait_untagged(trial.tag, timeout=30.0)  # returns once none is left
    assert not left, ("the killed run's codex outlived the resumed run", describe(left))
    # the agent is told that an interrupted attempt may have left work in the tree
    assert "was interrupted" in again[0]["prompt"]


@pytest.mark.slow
def test_run_fresh_starts_over(tmp_path: Path, lean: Path, reaper: list[Trial]) -> None:
    trial = new_trial(tmp_path / "t", lean)
    trial.extra_env["LEAN_CODEX_SLEEP"] = "30"
    reaper.append(trial)
    _kill_when(trial, trial.start("run"), trial.repo / ".git" / "chaos-pids")
    old = trial.runs()[0].run_id
    trial.extra_env["LEAN_CODEX_SLEEP"] = "0"
    proc = subprocess.Popen(
        [*trial.argv("run"), "--fresh"],
        cwd=trial.repo,
        env=trial.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, out.decode()
    status = {r.run_id: r.status for r in trial.runs()}
    assert len(status) == 2
    assert status.pop(old) == "running"  # the killed run stays as it was, superseded
    assert list(status.values()) == ["passed"]
    left = wait_untagged(trial.tag, timeout=30.0)  # returns once none is left
    assert not left, ("the killed run's codex outlived the fresh run", describe(left))


def test_resume_commits_outcomes_written_but_not_committed(
    tmp_path: Path, lean: Path, reaper: list[Trial]
) -> None:
    """Killed between writing Outcomes & Retrospective and committing it: resume commits
    it (the marker in the plan does not mean the commit exists)."""
    trial = new_trial(tmp_path / "t", lean)
    reaper.append(trial)
    _finish(trial, "run")
    state = trial.runs()[0]
    # the tree a SIGKILL leaves between `git add` and `git commit` of the outcomes
    git(trial.repo, "reset", "-q", "--soft", "HEAD~1")
    state.status, state.ended_at = "running", None
    save_state(state_path(trial.repo, state.run_id), state)
    _finish(trial)
    verify_done(trial)
    assert git(trial.repo, "log", "-1", "--format=%s") == "chaos: outcomes and retrospective\n"


def test_resume_after_everything_committed_adds_nothing(
    tmp_path: Path, lean: Path, reaper: list[Trial]
) -> None:
    """Killed after the last commit but before the final state save: resume finds every
    milestone in git history and makes no commit and no codex step."""
    trial = new_trial(tmp_path / "t", lean)
    reaper.append(trial)
    _finish(trial, "run")
    head = git(trial.repo, "rev-parse", "HEAD")
    state = trial.runs()[0]
    steps = (trial.root / "threads").read_text()
    for ms in state.milestones:
        ms.status, ms.phase, ms.commit = "running", "approved", None
    state.status, state.ended_at = "running", None
    save_state(state_path(trial.repo, state.run_id), state)
    _finish(trial)
    verify_done(trial)
    assert git(trial.repo, "rev-parse", "HEAD") == head
    assert (trial.root / "threads").read_text() == steps
