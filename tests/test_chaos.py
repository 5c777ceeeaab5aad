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

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.chaos_helpers import (
    Tally,
    Trial,
    describe,
    install_lean_codex,
    kill_all,
    kill_point,
    new_trial,
    tagged,
    verify_done,
    wait_untagged,
)

TRIALS_PER_CHUNK = 10
CHUNKS = 3
MAX_KILLS = 3
SEED = 20261122


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_lean_codex(tmp_path_factory.mktemp("leanbin"))


def _clean_run_seconds(base: Path, fake: Path) -> float:
    """How long one uninterrupted run takes here (the range kill delays are drawn from)."""
    trial = new_trial(base, fake)
    began = time.monotonic()
    proc = trial.start()
    assert proc.wait(timeout=90) == 0, trial.output()
    seconds = time.monotonic() - began
    verify_done(trial)
    return seconds


def _run_trial(trial: Trial, rng: random.Random, signo: int, span: float, tally: Tally) -> None:
    tally.trials += 1
    for round_no in range(MAX_KILLS + 1):
        proc = trial.start()
        if round_no == MAX_KILLS:
            code = proc.wait(timeout=90)
            assert code == 0, trial.output()
            break
        try:
            code = proc.wait(timeout=rng.uniform(0.05, span))
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
    left = wait_untagged(trial.tag, timeout=5.0)
    kill_all(left)
    assert not left, describe(left)
    verify_done(trial)


def _check_stopped(trial: Trial, signo: int, code: int, point: str) -> None:
    if signo == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    # SIGTERM: a graceful stop, unless the signal came before the handlers were
    # installed (interpreter start-up: nothing to save) or after the run ended.
    assert code in (143, 0, -signal.SIGTERM), (code, trial.output())
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
    span = _clean_run_seconds(tmp_path / "calibrate", fake)
    rng = random.Random(SEED + 1000 * int(signo) + chunk)
    tally = Tally()
    for n in range(TRIALS_PER_CHUNK):
        _run_trial(new_trial(tmp_path / f"t{n}", fake), rng, signo, span, tally)
    name = signal.Signals(signo).name
    with capsys.disabled():
        print()
        print(tally.render(f"chaos {name} chunk {chunk}", time.monotonic() - began))
        print(f"  clean run: {span:.2f} s")
    assert tally.kills > 0


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_sigkill_chaos(
    tmp_path: Path, fake: Path, chunk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _chaos(tmp_path, fake, signal.SIGKILL, chunk, capsys)


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_sigterm_chaos(
    tmp_path: Path, fake: Path, chunk: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _chaos(tmp_path, fake, signal.SIGTERM, chunk, capsys)
