"""Verification inside whole runs (fake codex): red first, weakening approval, hidden checks."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.run.session import start_run
from orchestrator.store.state import list_runs
from orchestrator.testing.fake_codex import read_state
from tests.supervisor_helpers import (
    PLAN_REL,
    git,
    implement,
    log_subjects,
    make_settings,
    review_answer,
    rule,
    write_plan,
    write_scenario,
)

PYTEST = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q tests"
TEST_A = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def _project(repo: Path, body_note: str = "") -> None:
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_a.py").write_text(TEST_A)
    (repo / "conftest.py").write_text("")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "project")
    plan = write_plan(repo, [("Make add add", [PYTEST])], commit=False)
    if body_note:
        text = plan.read_text().replace("Do step 1.\n", f"Do step 1.\n\n{body_note}\n")
        plan.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add plan")


def _prompts(scenario: Path, kind: str) -> list[str]:
    return [
        str(i["prompt"])
        for i in read_state(scenario)["invocations"]
        if f"step={kind} " in str(i["prompt"])
    ]


FIX = "printf 'def add(a, b):\\n    return a + b\\n' > calc.py"


def test_require_red_first_stops_when_the_checks_already_pass(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("Already done", ["true"])])
    write_scenario(scenario_file, [implement("1", "touch x")])
    settings = make_settings(fake_codex).model_copy(
        update={"verify": make_settings(fake_codex).verify.model_copy(
            update={"require_red_first": True})}
    )  # fmt: skip
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 3
    state = list_runs(git_repo)[0]
    assert "already passes at its checkpoint" in (state.stop_reason or "")
    assert _prompts(scenario_file, "implement") == []  # stopped before any work


def test_the_reviewer_is_told_when_everything_passed_before_the_work(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("Already done", ["true"])])
    write_scenario(
        scenario_file,
        [implement("1", "touch x"), rule("approve", schema="verdict", answer=review_answer())],
    )
    code = start_run(
        repo=git_repo, plan_path=Path(PLAN_REL), settings=make_settings(fake_codex), fresh=False
    )
    assert code == 0
    (review,) = _prompts(scenario_file, "review")
    assert "every check already passed at the checkpoint" in review
    assert "special-case the inputs the tests use" in review
    report = next((git_repo / ".agent" / "runs").glob("*/report.md")).read_text()
    assert "every check already passed at the checkpoint" in report


def test_weakened_tests_fail_the_round_unless_the_plan_allows_it(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _project(git_repo)
    weaken = "printf 'def test_add():\\n    assert True\\n' > tests/test_a.py"
    write_scenario(
        scenario_file,
        [implement("1", FIX, weaken), rule("approve", schema="verdict", answer=review_answer())],
    )
    settings = make_settings(fake_codex, loop={"max_attempts": 0})
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 4
    ms = list_runs(git_repo)[0].milestones[0]
    protected = next(c for c in ms.last_checks if c.check_id == "verify.protected")
    assert "assertions removed or changed" in protected.output_tail
    assert next(c for c in ms.last_checks if c.check_id == "1.1").passed  # judged by the old test


def _weakening_run(repo: Path, fake: Path, scenario: Path, approved: bool | None) -> int:
    _project(repo, "Changes tests: yes")
    drop = "printf 'from calc import add\\n\\n\\ndef test_other():\\n    assert add(1, 1) == 2\\n' > tests/test_a.py"  # noqa: E501
    answer = {**review_answer(), "weakening_approved": approved}
    write_scenario(
        scenario,
        [implement("1", FIX, drop), rule("review", schema="verdict", answer=answer)],
    )
    settings = make_settings(fake, loop={"max_attempts": 0})
    return start_run(repo=repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)


def test_a_weakening_the_plan_allows_needs_the_reviewers_explicit_approval(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    assert _weakening_run(git_repo, fake_codex, scenario_file, approved=None) == 4
    ms = list_runs(git_repo)[0].milestones[0]
    assert any("did not approve them explicitly" in f.message for f in ms.findings)
    (review,) = _prompts(scenario_file, "review")
    assert "test functions removed: `test_add`" in review
    assert "The plan says that this milestone changes its tests" in review


def test_an_approved_weakening_passes(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    assert _weakening_run(git_repo, fake_codex, scenario_file, approved=True) == 0
    assert any("milestone 1" in s for s in log_subjects(git_repo))


def test_a_hidden_check_failure_reaches_the_agent_only_as_one_sentence(
    git_repo: Path, fake_codex: Path, scenario_file: Path, tmp_path: Path
) -> None:
    _project(git_repo)
    holdout = tmp_path / "acceptance" / "holdout.toml"
    holdout.parent.mkdir()
    secret = "SECRET_INPUT_10_7"
    holdout.write_text(
        f"[[check]]\ncommand = \"{sys.executable} -c 'from calc import add; "
        f'assert add(10, 7) == 17, \\"{secret}\\"\'"\n'
    )
    special = "printf 'def add(a, b):\\n    return 5 if (a, b) == (2, 3) else a - b\\n' > calc.py"
    write_scenario(
        scenario_file,
        [
            implement("1", special),
            rule("repair", contains="step=repair milestone=1 ", commands=["true"]),
            rule("review", schema="verdict", answer=review_answer("changes_requested")),
        ],
    )
    base = make_settings(fake_codex, loop={"max_attempts": 1})
    settings = base.model_copy(
        update={"verify": base.verify.model_copy(update={"holdout_checks": str(holdout)})}
    )
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 4
    everything_seen = "\n".join(str(i["prompt"]) for i in read_state(scenario_file)["invocations"])
    assert "a hidden acceptance check failed for milestone 1" in everything_seen
    assert secret not in everything_seen
    assert "10, 7" not in everything_seen
    run_files = [p for p in (git_repo / ".agent").rglob("*") if p.is_file()]
    assert not any("10, 7" in p.read_text(errors="replace") for p in run_files)
    logs = list((holdout.parent / "holdout.logs").rglob("*.log"))
    assert any(secret in p.read_text() for p in logs)  # the person finds the output
