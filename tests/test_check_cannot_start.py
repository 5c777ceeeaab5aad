"""A check that cannot start is a setup problem: exit 2 with the output, before any repair
round; a check that fails on the agent's own (missing) file is work for a repair."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from orchestrator.cli import main
from orchestrator.milestone.check_programs import cannot_start
from orchestrator.milestone.validation import run_checks
from orchestrator.plan.model import Check
from orchestrator.settings.model import CheckSettings
from orchestrator.store.state import list_runs
from orchestrator.testing.fake_codex import read_state
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    write_plan,
    write_scenario,
)


@pytest.mark.parametrize(
    ("command", "setup"),
    [
        ("no-such-tool-q --check", True),
        ("python3 -m no_such_mod_q", True),
        ("python3 -m mine_q", False),  # the plan's own module (named in its text)
        ("./scripts/missing.sh", False),  # the agent's file: a repair can create it
        ("false", False),
        ("bash -c 'exit 127'", False),  # the program started; its own exit code
    ],
)
def test_which_failures_mean_the_check_could_not_start(
    tmp_path: Path, command: str, setup: bool
) -> None:
    check = Check(id="1.1", command=command, line=1, milestone="1")
    (result,) = anyio.run(
        lambda: run_checks([check], cwd=tmp_path, settings=CheckSettings(), log_dir=None)
    )
    assert not result.passed
    prose = "Milestone 1 adds the package mine_q."
    found = cannot_start(command, result.exit_code, result.output_tail, tmp_path, os.environ, prose)
    assert (found is not None) is setup, (found, result)


def test_a_check_program_gone_by_validation_stops_with_exit_2_before_a_repair(
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The check's tool is on PATH at preflight but gone when the checks run (removed by
    an update, say): exit 2 naming it, status `setup`, no review or repair; once it is
    back the same `run` line continues and passes."""
    tools = tmp_path / "tools"
    tools.mkdir()
    tool = tools / "greet-check-q"
    tool.write_text("#!/bin/sh\ntest -f m1.txt\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    write_plan(git_repo, [("first", ["greet-check-q"])])
    write_scenario(
        scenario_file, [implement("1", f"touch m1.txt; mv {tool} {tool}.gone"), approve_all()]
    )
    run = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main(run) == 2
    err = capsys.readouterr().err
    assert "greet-check-q" in err
    assert "not found" in err
    (state,) = list_runs(git_repo)
    assert state.status == "setup"
    assert state.milestones[0].attempts == 0
    rules = [c["rule"] for c in read_state(scenario_file)["invocations"]]
    assert rules == ["implement-1"]  # no review, no repair

    Path(f"{tool}.gone").rename(tool)
    assert main(run) == 0
    (state,) = list_runs(git_repo)
    assert state.status == "passed"
