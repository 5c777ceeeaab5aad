"""Chaos: kill the orchestrator at random moments, resume, repeat until the plan is done.

Each trial runs a 5-milestone plan with the fake codex through a real
``python -m orchestrator`` subprocess in its own session, stops it with a signal
after a delay drawn from a seeded RNG within one run's measured duration, then
resumes, up to ``MAX_KILLS`` times, and finally lets it finish. The end state must
be the same as an uninterrupted run's: each milestone committed once, in order,
with its trailers; one Progress entry each; state agreeing with git; a clean
tree; no process of the trial left. The kill-point histogram is printed (run
``pytest tests/test_chaos.py -n0`` to see it: xdist workers swallow output).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.testing.fake_codex import install_fake_codex
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer
from tests.chaos_helpers import (
    Tally,
    Trial,
    describe,
    implement,
    invocations,
    kill_all,
    kill_point,
    new_trial,
    tagged,
    verify_done,
    wait_for,
    wait_untagged,
)

TRIALS_PER_CHUNK = 10
CHUNKS = 3
MAX_KILLS = 3
SEED = 20261122


def _calibrate(base: Path, fake: Path) -> tuple[float, float]:
    """Seconds until an uninterrupted run claims its state, and until it ends: kill
    delays are drawn between half the first and the second. The faster of two runs
    counts: the first one pays for cold caches, and a span longer than a real run
    would let every trial finish before its kill."""
    first = _calibrate_once(base / "a", fake)
    second = _calibrate_once(base / "b", fake)
    return min(first[0], second[0]), min(first[1], second[1])


def _calibrate_once(base: Path, fake: Path) -> tuple[float, float]:
    trial = new_trial(base, fake)
    began = time.monotonic()
    proc = trial.start()
    runs = trial.repo / ".agent" / "runs"
    wait_for(lambda: runs.is_dir() or proc.poll() is not None, 60, "the run state")
    startup = time.monotonic() - began
    # the leftover detector sees a trial's processes (or every "none left" is vacuous)
    assert proc.poll() is not None or proc.pid in {p.pid for p in tagged(trial.tag)}
    assert proc.wait(timeout=90) == 0, trial.output()
    seconds = time.monotonic() - began
    verify_done(trial)
    return startup, seconds


def _run_trial(
    trial: Trial, rng: random.Random, signo: int, span: tuple[float, float], tally: Tally
) -> None:
    tally.trials += 1
    for round_no in range(MAX_KILLS + 1):
        proc = trial.start()
        if round_no == MAX_KILLS:
            code = proc.wait(timeout=90)
            assert code == 0, trial.output()
            break
        try:
            code = proc.wait(timeout=rng.uniform(span[0] / 2, span[1]))
        except subprocess.TimeoutExpired:
            point = kill_point(trial, proc.pid)
            sent = time.monotonic()
            proc.send_signal(signo)
            code = proc.wait(timeout=30)
            tally.stop_latency.append(time.monotonic() - sent)
            tally.add_kill(point)
            tally.exits[str(code)] += 1
            _check_stopped(trial, signo, code, point)
            runs = trial.runs()
            if runs and runs[0].finished:  # the signal came after the run had passed
                break
            continue
        assert code == 0, trial.output()
        break
    left = wait_untagged(trial.tag, timeout=30.0)  # returns as soon as none is left
    kill_all(left)
    assert not left, describe(left)
    shells = [int(pid) for pid in (trial.repo / ".git" / "chaos-pids").read_text().split()]
    tally.shells += len(shells)
    alive = {p.pid for p in tagged(trial.tag)}
    assert not [pid for pid in shells if pid in alive]
    verify_done(trial)


def _check_stopped(trial: Trial, signo: int, code: int, point: str) -> None:
    if code == 0:  # the run passed in the instant between reading the point and the signal
        assert trial.runs()[0].status == "passed", (point, trial.output())
        return
    if signo == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    # SIGTERM: a graceful stop, unless the signal came before this process claimed the
    # run state (interpreter start-up: nothing to save) or after the run ended.
    assert code in (143, -signal.SIGTERM), (code, trial.output())
    if code == -signal.SIGTERM:
        assert point.startswith(("startup/", "passed/")), (point, trial.output())
        return
    runs = trial.runs()
    assert runs, trial.output()
    if code == 143:
        state = runs[0]
        assert state.status == "interrupted", (state.status, point)
        assert all(m.status != "running" for m in state.milestones)
        left = tagged(trial.tag)
        kill_all(left)
        assert not left, ("a graceful stop left processes", describe(left))


def _chaos(
    tmp_path: Path, fake: Path, signo: int, chunk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    span = _calibrate(tmp_path / "calibrate", fake)
    rng = random.Random(SEED + 1000 * int(signo) + chunk)
    tally = Tally()
    for n in range(TRIALS_PER_CHUNK):
        trial = new_trial(tmp_path / f"t{n}", fake)
        try:
            _run_trial(trial, rng, signo, span, tally)
        finally:
            trial.cleanup()
    name = signal.Signals(signo).name
    with capsys.disabled():
        print()
        print(tally.render(f"chaos {name} chunk {chunk}", time.monotonic() - began))
        print(f"  clean run: {span[1]:.2f} s, {span[0]:.2f} s of it start-up")
    assert tally.kills > 0


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_sigkill_chaos(
    tmp_path: Path, lean: Path, chunk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _chaos(tmp_path, lean, signal.SIGKILL, chunk, capsys)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_sigterm_chaos(
    tmp_path: Path, lean: Path, chunk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _chaos(tmp_path, lean, signal.SIGTERM, chunk, capsys)


@pytest.mark.slow
def test_killed_codex_child_is_retried_as_transient(tmp_path: Path) -> None:
    """SIGKILL the codex child (not the orchestrator) mid-step: the step is retried on
    the same thread, not counted as an attempt, and the milestone passes."""
    fake = install_fake_codex(tmp_path / "bin")
    hang = {"kind": "hang", "after_commands": True}
    rules = [
        implement(1, "touch .git/started", fault=hang, name="hangs", times=1),
        implement(1, "echo 1 > m1.txt"),
    ]
    trial = new_trial(tmp_path / "t", fake, rules, milestones=1)
    proc = trial.start("run")
    try:
        wait_for(lambda: (trial.repo / ".git" / "started").exists(), 60, "the step to start")
        codex = [p for p in tagged(trial.tag) if "fake_codex" in " ".join(p.cmdline())]
        assert len(codex) == 1, describe(codex)
        codex[0].send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == 0, trial.output()
    finally:
        trial.cleanup()
    calls = [(c["rule"], c["resumed"], c["thread_id"]) for c in invocations(trial)]
    assert [c[:2] for c in calls] == [("hangs", False), ("implement-1", True)]
    assert calls[0][2] == calls[1][2]  # the retry continued the thread
    verify_done(trial, milestones=1)  # Attempts: 1, a retry is not an attempt
    state = trial.runs()[0]
    events = (trial.repo / ".agent/runs" / state.run_id / "events.jsonl").read_text()
    finished = [json.loads(line) for line in events.splitlines() if "step_finished" in line]
    assert [(e["outcome"], e["retries"]) for e in finished] == [("ok", 1)]


@pytest.mark.e2e
@pytest.mark.slow
def test_killed_real_codex_is_retried_on_its_thread(tmp_path: Path, codex_bin: Path) -> None:
    """The real codex binary, SIGKILLed mid-step (the model is silent after its first
    tool round): the orchestrator retries the step as transient by resuming the thread,
    and the milestone passes with one commit."""
    hang = {"kind": "hang", "after_commands": True}
    rules = [
        implement(1, "touch started.flag", fault=hang, name="hangs", times=1),
        implement(1, "echo 1 > m1.txt"),
    ]
    trial = new_trial(tmp_path / "t", codex_bin, milestones=1)
    with ScriptedModelServer(Scenario.model_validate({"rules": rules})) as server:
        trial.extra_env.update(server.codex_env(tmp_path / "codex-home"))
        trial.extra_env.update({"RUST_LOG": "off", "ORCH_CODEX__MODEL": server.scenario.model})
        proc = trial.start("run")
        try:
            wait_for(lambda: server.fired().get("hangs", 0) == 1, 60, "the first turn")
            wait_for(lambda: (trial.repo / "started.flag").exists(), 60, "its command")
            # the native binary; its sandboxed commands run as `codex` too, as its children
            native = [p for p in tagged(trial.tag) if p.name() == "codex" and not _codex_child(p)]
            assert len(native) == 1, describe(tagged(trial.tag))
            native[0].send_signal(signal.SIGKILL)
            assert proc.wait(timeout=120) == 0, trial.output()
        finally:
            trial.cleanup()
        fired = server.fired()
    assert fired == {"hangs": 1, "implement-1": 1}, fired
    state = trial.runs()[0]
    events = (trial.repo / ".agent/runs" / state.run_id / "events.jsonl").read_text()
    finished = [json.loads(line) for line in events.splitlines() if "step_finished" in line]
    assert [(e["outcome"], e["retries"]) for e in finished] == [("ok", 1)]
    results = [json.loads(line) for line in events.splitlines() if "codex_step_result" in line]
    assert [r["outcome"] for r in results] == ["transient", "ok"]
    assert results[0]["thread_id"] == results[1]["thread_id"] == state.milestones[0].thread_id
    verify_done(trial, milestones=1, threads={results[0]["thread_id"]})
    left = tagged(trial.tag)
    assert not left, describe(left)


def _codex_child(proc: psutil.Process) -> bool:
    parent = proc.parent()
    return parent is not None and parent.name() == "codex"
