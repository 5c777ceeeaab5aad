"""Signals stop a run gracefully: the codex step's processes are stopped, the state is
saved as interrupted, the exit code says which signal (130 for SIGINT, 143 for
SIGTERM and SIGHUP); a step that honours the signal is not waited for past it, and a
second SIGINT stops at once. How long a stop takes is measured in bench/, not here.

The orchestrator is a real ``python -m orchestrator run`` subprocess in its own
session; its codex step hangs (fake codex fault ``hang``) until the signal comes.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil
import pytest

from tests.chaos_helpers import (
    Trial,
    describe,
    implement,
    new_trial,
    reaper,
    tagged,
    verify_done,
    wait_for,
    wait_untagged,
)
from tests.conftest import install_hanging_git

__all__ = ["reaper"]  # the fixture, imported for pytest


def _hanging_trial(base: Path, fake: Path, fault: str) -> Trial:
    """Milestone 1's first implement step hangs after touching ``.git/started``."""
    rules = [
        implement(
            1,
            "touch .git/started",
            fault={"kind": fault, "after_commands": True},
            name="hangs",
            times=1,
        ),
        implement(1, "echo 1 > m1.txt"),
        implement(2, "echo 2 > m2.txt"),
    ]
    return new_trial(base, fake, rules, milestones=2)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signo", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 143)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_signal_stops_the_run_gracefully(
    tmp_path: Path, fake_codex: Path, reaper: list[Trial], signo: int, code: int
) -> None:
    trial = _hanging_trial(tmp_path / "t", fake_codex, "hang")
    reaper.append(trial)
    proc = trial.start("run")
    wait_for(lambda: (trial.repo / ".git" / "started").exists(), 60, "the step to start")
    proc.send_signal(signo)
    assert proc.wait(timeout=60) == code, trial.output()
    # fast because the step was interrupted and ended by itself: never killed after a grace
    stops = [e for e in _events(trial) if e in ("process_interrupt", "process_kill")]
    assert stops == ["process_interrupt"], stops
    left = tagged(trial.tag)
    assert not left, ("a process of the step outlived the run", describe(left))
    state = trial.runs()[0]
    assert state.status == "interrupted"
    assert state.stop_reason == f"stopped by {signal.Signals(signo).name}"
    assert [m.status for m in state.milestones] == ["interrupted", "pending"]
    assert state.milestones[0].commit is None
    assert len(trial.runs()) == 1
    # nothing was committed half-way, and the run is resumable to the end
    proc = trial.start("resume")
    assert proc.wait(timeout=90) == 0, trial.output()
    verify_done(trial, milestones=2)


@pytest.mark.slow
def test_second_sigint_stops_at_once(tmp_path: Path, fake_codex: Path, reaper: list[Trial]) -> None:
    """A codex that ignores SIGINT would hold a graceful stop for the kill grace (30 s
    here); a second SIGINT ends the orchestrator at once, and its step with it."""
    trial = _hanging_trial(tmp_path / "t", fake_codex, "ignore_sigterm")
    trial.extra_env["ORCH_CODEX__KILL_GRACE"] = "30"
    reaper.append(trial)
    proc = trial.start("run")
    wait_for(lambda: _ignores_sigint(trial), 60, "the step to ignore SIGINT")
    proc.send_signal(signal.SIGINT)
    wait_for(lambda: "process_interrupt" in _events(trial), 60, "the stop of the step")
    assert proc.poll() is None, "the first SIGINT should wait for the step to stop"
    proc.send_signal(signal.SIGINT)
    # the step holds a graceful stop for its 30 s kill grace: only a forced stop ends first
    assert proc.wait(timeout=25) == 130, trial.output()
    events = _events(trial)
    assert "second_interrupt" in events, events
    assert "process_kill" not in events, events  # the grace was not waited out
    state = trial.runs()[0]
    assert state.stop_reason == "stopped by a second SIGINT"
    assert [m.status for m in state.milestones] == ["interrupted", "pending"]
    left = wait_untagged(trial.tag, timeout=30.0)
    assert not left, ("a forced stop left the codex step running", describe(left))


def _events(trial: Trial) -> list[str]:
    """The names of the events the trial's run logged so far."""
    runs = trial.repo / ".agent" / "runs"
    found: list[str] = []
    for path in sorted(runs.glob("*/events.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(str(json.loads(line)["event"]))
            except (ValueError, KeyError):
                continue  # a line being written
    return found


def _ignores_sigint(trial: Trial) -> bool:
    """The trial's fake codex has set SIGINT to be ignored (its ``SigIgn`` mask)."""
    for proc in tagged(trial.tag):
        try:
            if "fake_codex" not in " ".join(proc.cmdline()):
                continue
            status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
        except (OSError, psutil.Error):
            continue
        mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
        if int(mask, 16) & (1 << (signal.SIGINT - 1)):
            return True
    return False


@pytest.mark.slow
def test_sigterm_while_git_hangs_stops_the_run(
    tmp_path: Path, fake_codex: Path, reaper: list[Trial]
) -> None:
    """git runs off the event loop: a git that hangs (a stuck hook, a stale lock) does
    not keep the run from handling SIGTERM, and the hung git is stopped too. (A stop
    lets a git write finish first, for a bounded time: see tests/test_git.py.)"""
    trial = new_trial(tmp_path / "t", fake_codex, [implement(1, "echo 1 > m1.txt")], milestones=1)
    mark = tmp_path / "git-hung.pid"
    shim = install_hanging_git(tmp_path / "bin", hang_on=("commit", "commit-tree"), mark=mark)
    trial.extra_env["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
    reaper.append(trial)
    proc = trial.start("run")
    wait_for(lambda: mark.exists() and mark.read_text().strip(), 60, "the commit to hang")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, trial.output()
    state = trial.runs()[0]
    assert state.status == "interrupted"
    assert [m.status for m in state.milestones] == ["interrupted"]
    left = wait_untagged(trial.tag, timeout=30.0)
    assert not left, ("the hung git outlived the run", describe(left))
