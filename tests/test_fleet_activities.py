"""What a fleet activity reports of a run: read from the run's state, seal checked."""

from __future__ import annotations

from pathlib import Path

from orchestrator.fleet.activities import _result
from orchestrator.fleet.contract import RunRequest, RunResult
from orchestrator.store.state import MilestoneState, RunState, save_state, state_path

RESETS_AT = 1_900_000_000.0


def _request(plan: str) -> RunRequest:
    return RunRequest(workflow_id="wf", repo="unused", plan=plan, branch="b")


def _parked(repo: Path) -> Path:
    state = RunState(
        run_id="20260101-000000-aaaa",
        plan_path="docs/plan.md",
        status="usage_limit",
        stop_reason="usage limit reached",
        resets_at=RESETS_AT,
        tokens_total=1234,
        milestones=[
            MilestoneState(id="1", status="passed"),
            MilestoneState(id="2", status="interrupted"),
        ],
    )
    path = state_path(repo, state.run_id)
    save_state(path, state)
    return path


def test_the_result_names_the_stopped_milestone_and_when_the_limit_resets(
    git_repo: Path,
) -> None:
    _parked(git_repo)
    assert _result(git_repo, _request("./docs/plan.md"), 4) == RunResult(
        exit_code=4,
        status="usage_limit",
        milestone="2",
        reason="usage limit reached",
        question=None,
        resume_at=RESETS_AT,
        tokens=1234,
    )
    needs_human = _result(git_repo, _request("docs/plan.md"), 3)
    assert needs_human.question == "usage limit reached"
    assert _result(git_repo, _request("docs/other.md"), 1) == RunResult(1, "failed")


def test_a_state_edited_behind_its_seal_is_not_reported(git_repo: Path) -> None:
    path = _parked(git_repo)
    path.write_text(path.read_text().replace(str(RESETS_AT), "1.0"), encoding="utf-8")
    assert _result(git_repo, _request("docs/plan.md"), 4) == RunResult(4, "failed")
