"""The console's review line and the report agree on the findings, and a stall says what
keeps repeating (not only in warnings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.store.state import list_runs, run_dir
from tests.supervisor_helpers import (
    PLAN_REL,
    implement,
    rule,
    write_plan,
    write_scenario,
)


def test_an_unusable_review_is_one_finding_everywhere_and_the_stall_names_it(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["true"])])
    write_scenario(
        scenario_file,
        [
            implement("1"),
            rule("repair", contains="step=repair ", answer=implement("1")["reply"]["answer"]),
            rule("review", contains="step=review ", message="looks fine to me"),  # not JSON
        ],
    )
    argv = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "  review: invalid (1 findings): the final answer is not JSON" in err
    state = list_runs(git_repo)[0]
    (finding,) = state.milestones[0].findings
    assert finding.message.startswith("the review gave no usable verdict: the final answer")
    report = (run_dir(git_repo, state.run_id) / "report.md").read_text(encoding="utf-8")
    assert finding.message in report
    reason = state.milestones[0].stop_reason or ""
    assert reason.startswith("stalled: the remaining delta did not change after a repair")
    assert "; still open: the review gave no usable verdict: the final answer is not JSON" in reason
    assert "still open: the review gave no usable verdict" in err  # the run's last line says it


def test_a_stall_on_failing_checks_names_them(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("first", ["test -f never.txt"])])
    write_scenario(
        scenario_file,
        [
            implement("1"),
            rule("repair", contains="step=repair ", answer=implement("1")["reply"]["answer"]),
            rule(
                "review",
                contains="step=review ",
                answer={
                    "verdict": "changes_requested",
                    "summary": "s",
                    "findings": [{"severity": "major", "path": None, "message": "make it"}],
                    "question": None,
                },
            ),  # fmt: skip
        ],
    )
    argv = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main(argv) == 4
    reason = list_runs(git_repo)[0].milestones[0].stop_reason or ""
    assert reason.endswith("; still failing: 1.1"), reason
