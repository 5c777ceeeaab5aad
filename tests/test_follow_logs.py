"""`orchestrator logs -f` follows a run from another shell and prints the lines the run's own
console printed; it ends when the run does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    rule,
    step_answer,
    write_plan,
    write_scenario,
)


def test_logs_follow_prints_what_the_run_printed(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("slow", ["true"])])
    scenario = write_scenario(
        tmp_path / "s.json",
        [
            rule(
                "implement",
                contains="step=implement milestone=1 ",
                commands=["touch a.txt"],
                answer=step_answer(),
                fault={"kind": "delay", "seconds": 2},
            ),
            approve_all(),
        ],
    )
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario), "NO_COLOR": "1"}
    cli = [sys.executable, "-m", "orchestrator", "-C", str(git_repo)]
    run = subprocess.Popen(
        [*cli, "run", PLAN_REL, "--codex-bin", str(fake_codex)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not list_runs(git_repo):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        follow = subprocess.run(
            [*cli, "logs", "-f"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        _, run_err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, run_err
    assert follow.returncode == 0, follow.stderr
    header, *followed = follow.stdout.splitlines()
    assert header.startswith(f"run {list_runs(git_repo)[0].run_id} of {PLAN_REL}")
    assert followed == run_err.splitlines()  # the same lines, in the same order
    assert followed[-1].split(" ", 1)[1].startswith("run passed (exit 0)")
