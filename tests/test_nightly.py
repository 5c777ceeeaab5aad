"""One cron line that works every night, and a person's answer that reaches the agent.

The same `orchestrator --config configs/nightly-cron.toml run PLAN` is played over five
nights: it starts, stops on the night's token budget, continues, finishes, and then
reports the plan done without a commit, a new run or a touched plan.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.paths import PROJECT_DIR
from orchestrator.store.state import list_runs, run_dir
from orchestrator.testing.fake_codex import read_state
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    implement,
    review_answer,
    rule,
    step_answer,
    write_plan,
    write_scenario,
)

NIGHTLY = PROJECT_DIR / "configs" / "nightly-cron.toml"


def test_the_same_line_over_five_nights(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(
        git_repo,
        [
            ("first", ["test -f m1.txt"]),
            ("second", ["test -f m2.txt"]),
            ("third", ["test -f m3.txt"]),
        ],
    )
    write_scenario(
        scenario_file,
        [
            implement("1", "touch m1.txt"),
            implement("2", "touch m2.txt"),
            implement("3", "touch m3.txt"),
            approve_all(),
        ],
    )
    # the fake reports 110 tokens a request: a milestone (implement: 2, review: 1) is 330
    line = ["--config", str(NIGHTLY), "-C", str(git_repo), "run", PLAN_REL,
            "--codex-bin", str(fake_codex), "--max-tokens", "300"]  # fmt: skip

    def night() -> tuple[int, str]:
        code = main(line)
        return code, capsys.readouterr().err

    code, err = night()  # 1: starts, one milestone, budget stop
    assert code == 4
    assert "max-tokens 300 reached" in err
    assert err.rstrip().splitlines()[-1].endswith(f"run {PLAN_REL}")  # the next step
    (state,) = list_runs(git_repo)
    assert [m.status for m in state.milestones] == ["passed", "pending", "pending"], err
    assert git(git_repo, "branch", "--show-current").strip() == "agent/nightly"

    code, err = night()  # 2: the same line continues the run; a fresh night's budget
    assert code == 4
    (state,) = list_runs(git_repo)
    assert [m.status for m in state.milestones] == ["passed", "passed", "pending"]
    assert state.tokens_total == 660
    assert state.tokens_total - state.invocation_tokens_start == 330

    code, err = night()  # 3: finishes
    assert code == 0, err
    (state,) = list_runs(git_repo)
    assert state.status == "passed"
    head = git(git_repo, "rev-parse", "HEAD")
    plan_text = (git_repo / PLAN_REL).read_bytes()
    steps = len(read_state(scenario_file)["invocations"])

    for _ in range(2):  # 4 and 5: done, nothing changes
        code, err = night()
        assert code == 0, err
        assert git(git_repo, "rev-parse", "HEAD") == head  # no commit
        assert (git_repo / PLAN_REL).read_bytes() == plan_text  # Outcomes untouched
        assert len(list_runs(git_repo)) == 1  # no new run
        assert len(read_state(scenario_file)["invocations"]) == steps  # no model request
        assert git(git_repo, "status", "--porcelain") == ""
    outcomes = [s for s in git(git_repo, "log", "--format=%s").splitlines() if "outcomes" in s]
    assert len(outcomes) == 1


def test_fresh_starts_over_on_purpose(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    base = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main(base) == 0
    assert main([*base, "--fresh", "--redo", "1"]) == 0
    assert len(list_runs(git_repo)) == 2


def test_an_answer_is_recorded_in_the_decision_log_and_given_to_the_agent(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(
        scenario_file,
        [
            implement("1", status="needs_human", question="Which file name?"),
            rule(
                "review",
                schema="verdict",
                answer=review_answer("changes_requested", findings=["m1.txt is missing"]),
                times=1,
            ),
            approve_all(),
            rule(
                "repair",
                contains="A person answered",
                commands=["touch m1.txt"],
                answer=step_answer("placed it"),
            ),
        ],
    )
    run = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main(run) == 3
    err = capsys.readouterr().err
    (state,) = list_runs(git_repo)
    handoff = run_dir(git_repo, state.run_id) / "NEEDS_HUMAN.md"
    assert str(handoff) in err
    assert f'resume {PLAN_REL} --answer "YOUR ANSWER"' in err.rstrip().splitlines()[-1]
    assert handoff.read_text().rstrip().endswith('--answer "YOUR ANSWER"')
    assert main(["-C", str(git_repo), "status"]) == 0
    assert "--answer" in capsys.readouterr().out.rstrip().splitlines()[-1]

    answer = ["-C", str(git_repo), "resume", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main([*answer, "--answer", "Call it m1.txt, in the root."]) == 0
    repairs = [c for c in read_state(scenario_file)["invocations"] if c["rule"] == "repair"]
    assert len(repairs) == 1
    assert "Call it m1.txt, in the root." in repairs[0]["prompt"]
    log = (git_repo / PLAN_REL).read_text()
    decisions = log[log.index("## Decision Log") : log.index("## Outcomes")]
    assert "Call it m1.txt, in the root." in decisions
    assert "Which file name?" in decisions
