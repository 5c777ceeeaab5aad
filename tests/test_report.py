"""report.md and NEEDS_HUMAN.md rendered from a run state."""

from __future__ import annotations

from pathlib import Path

from orchestrator.store.state import CheckRecord, MilestoneState, RunState, StepRecord
from orchestrator.ui.report import render_report, write_needs_human, write_report


def _state() -> RunState:
    passed = MilestoneState(
        id="1",
        title="parser",
        status="passed",
        commit="a" * 40,
        thread_id="t-1",
        tokens=330,
        started_at=1000.0,
        ended_at=1012.5,
        steps=[
            StepRecord(kind="implement", outcome="ok", answer="done", tokens=220,
                       summary="wrote it", started_at=1000.0, ended_at=1005.0),
            StepRecord(kind="validate", outcome="passed", summary="2/2 passed",
                       started_at=1005.0, ended_at=1006.0),
            StepRecord(kind="review", outcome="ok", answer="approve", tokens=110,
                       summary="fine | good", started_at=1006.0, ended_at=1012.0),
        ],
    )  # fmt: skip
    stuck = MilestoneState(
        id="2",
        title="cli",
        status="gave_up",
        attempts=3,
        stop_reason="stalled: the remaining delta did not change after a repair",
        findings=[{"severity": "blocker", "path": "cli.py", "message": "exit code is 0 on error"}],
        last_checks=[
            CheckRecord(check_id="2.1", command="pytest -q", exit_code=1, passed=False,
                        ended="exited", duration_s=1.25, output_tail="E   assert 1 == 0\n"),
            CheckRecord(check_id="plan.1", command="ruff check", exit_code=0, passed=True,
                        ended="exited", duration_s=0.5),
        ],
    )  # fmt: skip
    return RunState(
        run_id="20260101-000000-abcd",
        plan_path=".agent/plans/x.md",
        status="gave_up",
        stop_reason="milestone 2: stalled",
        created_at=1000.0,
        ended_at=1100.0,
        tokens_total=330,
        milestones=[passed, stuck],
    )


def test_report_lists_milestones_steps_checks_and_totals() -> None:
    text = render_report(_state(), exit_code=4)
    assert "- Status: **gave_up** (exit code 4)" in text
    assert "- Reason: milestone 2: stalled" in text
    assert "- Milestones passed: 1 of 2" in text
    assert "- Total time: 100.0s" in text
    assert "- Tokens: 330" in text
    assert "## Milestone 1: parser (passed)" in text
    assert f"- Commit: {'a' * 40}" in text
    assert "| 3 | review | 1 | ok/approve | 110 | 6.0s | fine \\| good |" in text
    assert "- Attempts: 4 (implement + 3 repairs)" in text
    assert "| 2.1 | `pytest -q` | FAIL (exited) | 1 | 1.2s |" in text
    assert "E   assert 1 == 0" in text  # the failing output is shown
    assert "- [blocker] `cli.py`: exit code is 0 on error" in text


def test_written_files(tmp_path: Path) -> None:
    state = _state()
    report = write_report(tmp_path, state, exit_code=4)
    expected = render_report(state, exit_code=4, repo=tmp_path.parents[2], run_dir=tmp_path)
    assert report.read_text(encoding="utf-8") == expected
    assert expected.rstrip().endswith("run .agent/plans/x.md")
    handoff = write_needs_human(tmp_path, state, state.milestones[1], question="Keep exit 0?")
    text = handoff.read_text(encoding="utf-8")
    assert text.startswith("# Needs a human: milestone 2 (cli)")
    assert "Keep exit 0?" in text
    assert "exit code is 0 on error" in text
    assert 'resume .agent/plans/x.md --answer "YOUR ANSWER"' in text.rstrip().splitlines()[-1]
    assert str(handoff) in text
    assert "orchestrator resume --run 20260101-000000-abcd" in text
