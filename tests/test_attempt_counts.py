"""One count of attempts everywhere: the implement step plus each repair. The commit
trailer, `status`, the report, the console lines and the live view agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.cli import main
from orchestrator.store.state import list_runs, run_dir
from orchestrator.ui.live import render_view
from orchestrator.ui.view import RunView
from tests.supervisor_helpers import (
    PLAN_REL,
    TWO_FILES,
    failure_review,
    git,
    implement,
    repair,
    review_answer,
    rule,
    write_plan,
    write_scenario,
)


def _scenario(path: Path) -> None:
    write_scenario(
        path,
        [
            implement("1"),  # makes nothing: the check fails
            failure_review("m1.txt is missing"),
            repair("1", "touch m1.txt", summary="made m1"),
            implement("2", "touch m2.txt"),
            rule("gate", contains="mode=gate", answer=review_answer("approve")),
        ],
    )


def test_one_repair_is_two_attempts_everywhere(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, TWO_FILES)
    _scenario(scenario_file)
    argv = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main(argv) == 0
    console_lines = capsys.readouterr().err

    trailers = re.findall(r"^Attempts: (\d+)$", git(git_repo, "log", "--format=%B"), re.M)
    assert trailers == ["1", "2"]  # newest first: milestone 2, then milestone 1

    assert main(["-C", str(git_repo), "status"]) == 0
    status = capsys.readouterr().out
    assert re.search(r"^   1\s+passed\s+attempts 2 ", status, re.M), status
    assert re.search(r"^   2\s+passed\s+attempts 1 ", status, re.M), status

    state = list_runs(git_repo)[0]
    report = (run_dir(git_repo, state.run_id) / "report.md").read_text(encoding="utf-8")
    assert "- Attempts: 2 (implement + 1 repairs)" in report
    assert "- Attempts: 1 (implement + 0 repairs)" in report

    assert "  repair (round 2)" in console_lines

    # the live view, fed the run's own events, says the same while running and at the end
    view = RunView()
    seen_while_running: set[int] = set()
    events = run_dir(git_repo, state.run_id) / "events.jsonl"
    for line in events.read_text(encoding="utf-8").splitlines():
        view.apply(json.loads(line))
        if view.milestones and view.milestones[0].status == "running":
            seen_while_running.add(view.milestones[0].attempts)
    assert max(seen_while_running) == 2
    shown = Console(record=True, width=100, color_system=None)
    shown.print(render_view(view))
    text = shown.export_text()
    assert "passed (2 att.)" in text
    assert "passed (1 att.)" in text


def test_a_milestone_in_its_first_implement_step_counts_one_attempt() -> None:
    """`status` reads the state, where a step is recorded when it ends: while the first
    implement step runs (or after Ctrl-C stopped it) it must say 1, as the live view does."""
    from orchestrator.store.state import MilestoneState

    running = MilestoneState(id="1", status="running", started_at=1.0)
    assert running.attempts_made == 1
    interrupted = MilestoneState(id="1", status="interrupted", started_at=1.0)
    assert interrupted.attempts_made == 1
    assert MilestoneState(id="1").attempts_made == 0
