"""Every branch of one milestone's loop, driven through the fake codex (a real process)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.testing.fake_codex import read_state
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    failure_review,
    git,
    implement,
    make_settings,
    repair,
    review_answer,
    rule,
    run_plan,
    step_answer,
    write_plan,
    write_scenario,
)


def _one_milestone(repo: Path, *checks: str) -> None:
    write_plan(repo, [("make the file", list(checks) or ["grep -q good m1.txt"])])


def test_fail_review_repair_pass(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    _one_milestone(git_repo)
    write_scenario(
        scenario_file,
        [
            implement("1", "echo bad > m1.txt"),
            failure_review("m1.txt must say good"),
            repair("1", "echo good > m1.txt", summary="fixed it"),
            approve_all(),
        ],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 0
    ms = state.milestones[0]
    assert [s.kind for s in ms.steps] == [
        "implement", "validate", "review", "repair", "validate", "review",
    ]  # fmt: skip
    assert ms.attempts == 1
    calls = read_state(scenario_file)["invocations"]
    fix = next(c for c in calls if c["rule"] == "repair")
    assert fix["resumed"] is True
    assert fix["thread_id"] == ms.thread_id
    assert "m1.txt must say good" in fix["prompt"]
    assert "grep -q good m1.txt" in fix["prompt"]  # the failing check is fed back
    body = git(git_repo, "log", "-1", "--skip=1", "--format=%B")
    assert "Attempts: 2" in body
    assert "fixed it" in body


def test_review_gate_requests_changes_then_approves(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _one_milestone(git_repo, "test -f m1.txt")
    write_scenario(
        scenario_file,
        [
            implement("1", "echo one > m1.txt"),
            rule(
                "gate-no",
                schema="verdict",
                times=1,
                answer=review_answer("changes_requested", findings=["add a second line"]),
            ),
            rule(
                "repair",
                contains="step=repair",
                commands=["echo two >> m1.txt"],
                answer=step_answer(),
            ),
            approve_all(),
        ],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 0
    assert (git_repo / "m1.txt").read_text() == "one\ntwo\n"
    fix = next(c for c in read_state(scenario_file)["invocations"] if c["rule"] == "repair")
    assert "add a second line" in fix["prompt"]
    assert state.milestones[0].attempts == 1


def test_needs_human_from_review_verdict(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _one_milestone(git_repo, "test -f m1.txt")
    write_scenario(
        scenario_file,
        [
            implement("1", "touch m1.txt"),
            rule(
                "ask",
                schema="verdict",
                answer=review_answer("needs_human", question="Which licence applies?"),
            ),
        ],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 3
    assert state.status == "needs_human"
    handoff = (git_repo / ".agent/runs" / state.run_id / "NEEDS_HUMAN.md").read_text()
    assert "Which licence applies?" in handoff
    assert f"resume {PLAN_REL} --answer" in handoff


def test_needs_human_from_step_answer(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _one_milestone(git_repo, "test -f m1.txt")
    write_scenario(
        scenario_file,
        [implement("1", status="needs_human", question="Delete the old API?"), approve_all()],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 3
    assert state.milestones[0].status == "needs_human"
    assert "Delete the old API?" in (state.milestones[0].stop_reason or "")
    assert len(read_state(scenario_file)["invocations"]) == 1  # no review after the ask


def test_permanent_codex_error_needs_human(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _one_milestone(git_repo, "test -f m1.txt")
    write_scenario(scenario_file, [rule("auth", fault={"kind": "http", "status": 401})])
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 3
    assert "permanent" in (state.stop_reason or "")


def test_max_attempts_gives_up(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    _one_milestone(git_repo, "grep -q good m1.txt")
    write_scenario(
        scenario_file,
        [
            implement("1", "echo bad > m1.txt"),
            # each repair changes the tree, so the delta keeps changing
            rule(
                "repair",
                contains="step=repair",
                commands=["date +%N >> m1.txt"],
                answer=step_answer(),
            ),
            rule(
                "review",
                schema="verdict",
                answer=review_answer("changes_requested", findings=["no"]),
            ),
        ],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex, loop={"max_attempts": 2}))
    assert code == 4
    assert state.status == "gave_up"
    assert "max attempts" in (state.stop_reason or "")
    assert state.milestones[0].attempts == 2
    assert (git_repo / "m1.txt").exists()  # on_give_up=keep
    report = (git_repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "max attempts" in report


def test_unchanged_delta_stalls(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    _one_milestone(git_repo, "grep -q good m1.txt")
    write_scenario(
        scenario_file,
        [
            implement("1", "echo bad > m1.txt"),
            rule("repair", contains="step=repair", answer=step_answer("tried")),
            rule(
                "review",
                schema="verdict",
                answer=review_answer("changes_requested", findings=["no"]),
            ),
        ],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex, loop={"max_attempts": 5}))
    assert code == 4
    assert "stalled" in (state.stop_reason or "")
    ms = state.milestones[0]
    assert ms.attempts == 1
    assert ms.fingerprints[-1] == ms.fingerprints[-2]
    report = (git_repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "stalled" in report
    assert "grep -q good m1.txt" in report  # the repeating failure is shown


def test_agent_edits_plan_is_reverted(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _one_milestone(git_repo, "test -f m1.txt")
    plan = git_repo / PLAN_REL
    before = plan.read_bytes()
    write_scenario(
        scenario_file,
        [implement("1", f"touch m1.txt && sed -i 's/test -f/true ||/' {PLAN_REL}"), approve_all()],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 3
    assert plan.read_bytes() == before
    assert "edited the plan" in (state.stop_reason or "")


def test_invalid_answer_is_fed_back_on_repair(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _one_milestone(git_repo, "test -f m1.txt")
    write_scenario(
        scenario_file,
        [
            rule("implement", contains="step=implement", message="I am done, trust me"),
            rule(
                "repair",
                contains="was not valid",
                commands=["touch m1.txt"],
                answer=step_answer(),
            ),
            approve_all(),
        ],
    )
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 0
    steps = state.milestones[0].steps
    assert (steps[0].outcome, steps[0].answer) == ("ok", "invalid")
    assert "not JSON" in (steps[0].summary or "")


def test_on_give_up_reset(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    _one_milestone(git_repo, "grep -q good m1.txt")
    write_scenario(
        scenario_file,
        [
            implement("1", "echo bad > m1.txt"),
            rule(
                "review",
                schema="verdict",
                answer=review_answer("changes_requested", findings=["x"]),
            ),
        ],
    )
    settings = make_settings(fake_codex, loop={"max_attempts": 0, "on_give_up": "reset"})
    code, _ = run_plan(git_repo, settings)
    assert code == 4
    assert not (git_repo / "m1.txt").exists()
    assert git(git_repo, "status", "--porcelain") == ""


def test_review_off_in_plan_skips_reviews(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("make the file", ["test -f m1.txt"])], header="review: off\n")
    write_scenario(scenario_file, [implement("1", "touch m1.txt")])
    code, state = run_plan(git_repo, make_settings(fake_codex))
    assert code == 0
    assert [s.kind for s in state.milestones[0].steps] == ["implement", "validate"]
