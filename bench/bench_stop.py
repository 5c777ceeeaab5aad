"""How long a signal takes to stop a run whose codex step is working.

Runs a one-milestone plan through ``python -m orchestrator run`` with the fake codex,
whose step hangs once it has touched ``.git/started``; then sends the signal and
times signal -> exit. Three cases: SIGINT and SIGTERM (graceful: the step is
interrupted, the state saved, the report written) and a second SIGINT while a step
that ignores SIGINT holds the first one for its 30 s kill grace (the forced stop).
Prints the median and the worst of a few runs for each, beside a bare
``python -c pass`` start, so the orchestrator's own share can be read off. Prints
figures; asserts only that each run exits with the right code.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.testing.fake_codex import install_fake_codex  # noqa: E402
from tests.chaos_helpers import PLAN_REL, implement, new_trial  # noqa: E402
from tests.conftest import GIT_IDENTITY  # noqa: E402

RUNS = 3


def _one(base: Path, fake: Path, fault: str, signals: list[signal.Signals], expect: int) -> float:
    step = implement(1, "touch .git/started", fault={"kind": fault, "after_commands": True})
    trial = new_trial(base, fake, [step], milestones=1)
    trial.extra_env["ORCH_CODEX__KILL_GRACE"] = "30"
    proc = trial.start("run")
    started = trial.repo / ".git" / "started"
    while not started.exists():
        assert proc.poll() is None, trial.output()
        time.sleep(0.01)
    if fault == "ignore_sigterm":  # the fake ignores SIGINT from just after its command
        _wait_ignoring(trial.tag)
    sent = time.monotonic()
    for n, signo in enumerate(signals):
        if n:
            _wait_event(trial.repo, "process_interrupt")
            sent = time.monotonic()  # the forced stop counts from the second signal
        proc.send_signal(signo)
    code = proc.wait(timeout=120)
    seconds = time.monotonic() - sent
    trial.cleanup()
    assert code == expect, (code, trial.output())
    return seconds


def _wait_ignoring(tag: str) -> None:
    import psutil

    while True:
        for p in psutil.process_iter():
            try:
                if p.environ().get("CHAOS_TAG") != tag or "fake_codex" not in " ".join(p.cmdline()):
                    continue
                status = Path(f"/proc/{p.pid}/status").read_text(encoding="utf-8")
            except (OSError, psutil.Error):
                continue
            mask = next(x.split()[1] for x in status.splitlines() if x.startswith("SigIgn:"))
            if int(mask, 16) & (1 << (signal.SIGINT - 1)):
                return
        time.sleep(0.01)


def _wait_event(repo: Path, event: str) -> None:
    while True:
        for path in (repo / ".agent" / "runs").glob("*/events.jsonl"):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    if json.loads(line).get("event") == event:
                        return
                except ValueError:
                    continue
        time.sleep(0.01)


def main() -> None:
    cases = [
        ("SIGINT", "hang", [signal.SIGINT], 130),
        ("SIGTERM", "hang", [signal.SIGTERM], 143),
        ("second SIGINT", "ignore_sigterm", [signal.SIGINT, signal.SIGINT], 130),
    ]
    starts = []
    for _ in range(RUNS):
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        starts.append(time.monotonic() - began)
    bare = statistics.median(starts)
    print(f"plan {PLAN_REL}, {RUNS} runs per case; bare `python -c pass`: {bare:.3f} s")
    with tempfile.TemporaryDirectory(prefix="bench-stop-") as tmp:
        fake = install_fake_codex(Path(tmp) / "bin")
        os.environ.update(GIT_IDENTITY)  # the fake needs no login; the preflight asks for one
        os.environ.update({"ORCH_LOG__LIVE": "false", "CODEX_API_KEY": "bench-fake"})
        for name, fault, signals, expect in cases:
            times = [
                _one(Path(tmp) / f"{name}-{i}".replace(" ", "-"), fake, fault, signals, expect)
                for i in range(RUNS)
            ]
            print(
                f"{name:>14}: signal -> exit median {statistics.median(times):.2f} s, "
                f"worst {max(times):.2f} s ({statistics.median(times) / bare:.1f}x a bare start)"
            )


if __name__ == "__main__":
    main()
