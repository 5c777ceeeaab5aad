"""Short blocking probes (process/probe.py) on real processes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil

from orchestrator.process.probe import probe, start

ENV = {"PATH": os.environ["PATH"]}


def test_exit_code_output_and_the_explicit_environment(tmp_path: Path) -> None:
    done = probe(
        ["sh", "-c", 'pwd; echo "[$ORCH_PROBE_SEEN][${HOME-unset}]" >&2; exit 3'],
        cwd=tmp_path,
        env={**ENV, "ORCH_PROBE_SEEN": "yes"},
        timeout=30,
    )
    assert (done.ended, done.exit_code, done.ok) == ("exited", 3, False)
    assert done.stdout.strip() == str(tmp_path.resolve())
    assert done.stderr.strip() == "[yes][unset]"  # exactly the environment given
    assert probe(["true"], env=ENV, timeout=30).ok


def test_a_missing_program_is_an_outcome_not_an_exception(tmp_path: Path) -> None:
    done = probe([str(tmp_path / "nope")], env=ENV, timeout=30)
    assert (done.ended, done.exit_code, done.ok) == ("not_found", None, False)
    assert "No such file" in done.stderr


def test_a_signalled_probe_says_so() -> None:
    done = probe(["sh", "-c", "kill -9 $$"], env=ENV, timeout=30)
    assert (done.ended, done.exit_code) == ("signalled", None)


def test_the_time_limit_stops_the_whole_group(tmp_path: Path) -> None:
    mark = tmp_path / "grandchild.pid"
    script = f"sleep 300 & echo $! > {mark}; echo started; wait"
    began = time.monotonic()
    done = probe(["sh", "-c", script], env=ENV, timeout=1.0)
    assert (done.ended, done.exit_code) == ("timeout", None)
    assert done.stdout == "started\n"
    assert time.monotonic() - began < 60
    grandchild = int(mark.read_text())
    assert not psutil.pid_exists(grandchild) or (
        psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    )


def test_secrets_in_the_output_are_redacted() -> None:
    secret = "s3cr3t-value-123456"
    done = probe(
        ["sh", "-c", 'echo "key is $MY_API_KEY"'], env={**ENV, "MY_API_KEY": secret}, timeout=30
    )
    assert secret not in done.stdout
    assert done.stdout.startswith("key is [REDACTED]")


def test_a_probe_started_ahead_answers_as_a_blocking_one(tmp_path: Path) -> None:
    started = start(["sh", "-c", "echo out; echo err >&2; exit 3"], env=ENV, timeout=30)
    assert started.pid is not None
    done = started.result()
    assert (done.ended, done.exit_code, done.stdout, done.stderr) == ("exited", 3, "out\n", "err\n")
    started.stop()  # read already: nothing to stop, the answer stays
    assert started.result() == done
    missing = start([str(tmp_path / "nope")], env=ENV, timeout=30)
    assert (missing.pid, missing.result().ended) == (None, "not_found")


def test_stopping_a_started_probe_ends_its_whole_group(tmp_path: Path) -> None:
    mark = tmp_path / "grandchild.pid"
    started = start(["sh", "-c", f"sleep 300 & echo $! > {mark}; wait"], env=ENV, timeout=300)
    deadline = time.monotonic() + 60
    while not (mark.exists() and mark.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    grandchild = int(mark.read_text())
    started.stop()
    assert started.pid is not None
    for pid in (started.pid, grandchild):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert started.result().ended == "signalled"
