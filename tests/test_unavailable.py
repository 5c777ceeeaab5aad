"""codex failing for reasons outside the work (HTTP 5xx after every retry) stops the run
resumably without spending a repair attempt; `resume` then finishes the milestone."""

from __future__ import annotations

from pathlib import Path

from orchestrator.run.session import resume_run, start_run
from orchestrator.store.state import list_runs
from orchestrator.testing.fake_codex import read_state
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    implement,
    make_settings,
    rule,
    write_plan,
    write_scenario,
)


def test_persistent_transient_failure_stops_resumably_without_an_attempt(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("make the file", ["grep -q good m1.txt"])])
    write_scenario(scenario_file, [rule("down", fault={"kind": "http", "status": 500})])
    settings = make_settings(
        fake_codex, codex={"retries": 2, "retry_initial_wait": 0, "retry_max_wait": 0}
    )
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 4
    (state,) = list_runs(git_repo)
    assert state.status == "unavailable"
    assert "transient" in (state.stop_reason or "")
    ms = state.milestones[0]
    assert ms.attempts == 0
    assert [s.kind for s in ms.steps] == ["implement"]  # no validation, review or repair
    assert len(read_state(scenario_file)["invocations"]) == 3  # the step and 2 retries

    write_scenario(scenario_file, [implement("1", "echo good > m1.txt"), approve_all()])
    code = resume_run(repo=git_repo, plan_path=Path(PLAN_REL), run_id=None, rebuild=False,
                      settings=settings)  # fmt: skip
    assert code == 0
    (state,) = list_runs(git_repo)
    assert state.status == "passed"
    assert state.milestones[0].attempts == 0
    trailers = git(
        git_repo, "log", "-1", "--grep=^Milestone: 1$",
        "--format=%(trailers:key=Attempts,valueonly)",
    )  # fmt: skip
    assert trailers.strip() == "1"
