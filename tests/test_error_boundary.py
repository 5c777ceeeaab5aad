"""Errors keep their meaning: an expected error raised inside the run's task group exits
with its own code and message; an unexpected one leaves a crash log, a state that says
why and a report; a machine without git gets one clear paragraph, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.store.state import list_runs, run_dir
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    run_cli,
    write_plan,
    write_scenario,
)


def test_git_error_inside_the_task_group_exits_with_its_own_code(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The milestone commit fails (a stale index.lock) inside the run's anyio task group:
    exit 2 with git's message, not an ExceptionGroup; state and report say why; once the
    lock is gone the same line continues the run."""
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(
        scenario_file, [implement("1", "touch m1.txt; touch .git/index.lock"), approve_all()]
    )
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 2
    err = capsys.readouterr().err
    assert "index.lock" in err
    assert "ExceptionGroup" not in err
    assert "internal error" not in err
    (state,) = list_runs(git_repo)
    assert state.status == "failed"
    assert "index.lock" in (state.stop_reason or "")
    report = (run_dir(git_repo, state.run_id) / "report.md").read_text()
    assert "index.lock" in report
    assert "Next" in report

    (git_repo / ".git" / "index.lock").unlink()
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 0
    (state,) = list_runs(git_repo)
    assert state.status == "passed"


def test_unexpected_error_inside_the_run_leaves_a_crash_log_state_and_report(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agent replaces the plan file with a directory: restoring it fails with an
    OSError nobody expects. Exit 1, a crash log in the run directory, the state says why."""
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(
        scenario_file,
        [implement("1", f"touch m1.txt; rm {PLAN_REL}; mkdir {PLAN_REL}"), approve_all()],
    )
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 1
    err = capsys.readouterr().err
    (state,) = list_runs(git_repo)
    rdir = run_dir(git_repo, state.run_id)
    crash = rdir / "crash.log"
    assert f"details in {crash}" in err
    assert "Traceback" in crash.read_text()
    assert state.status == "failed"
    assert str(crash) in (state.stop_reason or "")
    assert "internal error" in (rdir / "report.md").read_text()


def test_no_git_on_path_is_a_clear_usage_error(git_repo: Path, tmp_path: Path) -> None:
    """`env -i PATH= orchestrator run`: GitPython cannot import without git; exit 2."""
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(git_repo), "run", PLAN_REL],
        env={"PATH": "", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "git program was not found on PATH" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("orchestrator-crash-*"))
    assert not list_runs(git_repo)
    assert os.environ.get("PATH")  # the test's own environment is untouched
