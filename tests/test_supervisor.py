"""The run as a whole: commits, plan edits, CLI exit codes, resume, budgets, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.plan import load_plan
from orchestrator.run.session import resume_run, start_run
from orchestrator.store.state import list_runs, load_state, save_state, state_path
from orchestrator.testing.fake_codex import read_state
from tests.chaos_helpers import wait_for
from tests.supervisor_helpers import (
    PLAN_REL,
    TWO_FILES,
    approve_all,
    git,
    implement,
    log_subjects,
    make_settings,
    review_answer,
    rule,
    run_cli,
    step_answer,
    write_plan,
    write_scenario,
)


def test_two_milestones_pass_with_one_commit_each(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [
            implement(
                "1",
                "touch m1.txt",
                summary="made m1",
                discoveries=[("touch is enough", "test -f passes")],
                decisions=[("use touch", "simplest")],
            ),
            implement("2", "touch m2.txt", summary="made m2"),
            approve_all(),
        ],
    )
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 0
    subjects = log_subjects(git_repo)
    assert subjects[:3] == [
        "feature: outcomes and retrospective",
        "feature: milestone 2: second",
        "feature: milestone 1: first",
    ]
    body = git(git_repo, "log", "-1", "--skip=2", "--format=%B")
    for trailer in ("ExecPlan: " + PLAN_REL, "Milestone: 1", "Attempts: 1", "Codex-Thread: "):
        assert trailer in body
    assert "made m1" in body
    # m1.txt is in the first milestone's commit, with the plan edits
    files = git(git_repo, "show", "--name-only", "--format=", "HEAD~2").split()
    assert sorted(files) == [PLAN_REL, "m1.txt"]
    text, plan = load_plan(git_repo / PLAN_REL)
    ticked = [p for p in plan.progress if p.checked]
    assert len(ticked) == 2
    assert len(plan.progress) == 2  # ticked in place, not duplicated
    assert "touch is enough" in text
    assert "use touch" in text
    assert "all 2 milestones passed" in text
    assert git(git_repo, "status", "--porcelain") == ""
    state = list_runs(git_repo)[0]
    assert state.status == "passed"
    assert state.tokens_total > 0
    report = (git_repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "Milestone 2: second (passed)" in report


def test_dirty_tree_refused_unless_allowed(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    (git_repo / "scratch.txt").write_text("mine\n")
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 2
    assert "uncommitted changes (scratch.txt)" in capsys.readouterr().err
    assert not list_runs(git_repo)
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL, "--allow-dirty") == 0


def test_branch_is_created(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL, "--branch", "feature/x") == 0
    assert git(git_repo, "branch", "--show-current").strip() == "feature/x"
    assert git(git_repo, "log", "main", "--format=%s").splitlines()[0] == "add plan"


def test_the_same_branch_line_runs_a_new_plan_on_the_checked_out_branch(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The nightly config names one branch every night: a new plan started while that
    # branch is checked out runs there; from another branch the message says what to do.
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    git(git_repo, "checkout", "-q", "-b", "agent/nightly")
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL, "--branch", "agent/nightly") == 0
    assert git(git_repo, "branch", "--show-current").strip() == "agent/nightly"
    git(git_repo, "checkout", "-q", "main")
    capsys.readouterr()
    assert (
        run_cli(git_repo, fake_codex, "run", "--fresh", PLAN_REL, "--branch", "agent/nightly") == 2
    )
    err = capsys.readouterr().err
    assert "`git checkout agent/nightly`" in err
    assert "run.branch" in err


def test_resume_branch_refuses_another_checked_out_branch(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", status="needs_human", question="?")])
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL, "--branch", "feature/x") == 3
    git(git_repo, "checkout", "-q", "main")
    capsys.readouterr()
    assert run_cli(git_repo, fake_codex, "resume", PLAN_REL, "--branch", "feature/x") == 2
    err = capsys.readouterr().err
    assert "is to continue on branch feature/x, but main is checked out" in err
    assert "`git checkout feature/x`" in err


def test_unrunnable_plan_exits_2(git_repo: Path, fake_codex: Path) -> None:
    write_plan(git_repo, [("first", [])])
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 2


def test_resume_after_needs_human(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [
            implement("1", status="needs_human", question="Where does m1.txt go?"),
            implement("2", "touch m2.txt"),
            approve_all(),
        ],
    )
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 3
    # the nightly line again, before anyone acted: no model request, points at resume
    calls = len(read_state(scenario_file)["invocations"])
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 3
    assert "resume .agent/plans/feature.md --answer" in capsys.readouterr().err
    assert len(read_state(scenario_file)["invocations"]) == calls
    (git_repo / "m1.txt").write_text("placed by a human\n")  # the human answers
    assert run_cli(git_repo, fake_codex, "resume", PLAN_REL) == 0
    state = list_runs(git_repo)[0]
    assert [m.status for m in state.milestones] == ["passed", "passed"]
    implements = [c for c in read_state(scenario_file)["invocations"] if c["rule"] == "implement-1"]
    assert len(implements) == 1  # resume validated the human's fix instead of re-implementing
    assert "Milestone: 1" in git(git_repo, "log", "-1", "--skip=2", "--format=%B")


def test_resume_heals_a_commit_missing_from_state(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    """Killed between commit and state save: git history says the milestone passed."""
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [
            implement("1", "touch m1.txt"),
            implement("2", "false"),
            rule("no", schema="verdict", answer=review_answer("needs_human", question="?")),
        ],
    )
    settings = make_settings(fake_codex)
    assert start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False) == 3
    state = list_runs(git_repo)[0]
    # forget that milestone 1 passed, as if the state save after its commit was lost
    ms = state.milestones[0]
    ms.status, ms.commit, ms.phase = "running", None, "approved"
    path = state_path(git_repo, state.run_id)
    save_state(path, state)  # as the orchestrator saved it (sealed)
    write_scenario(scenario_file, [implement("2", "touch m2.txt"), approve_all()])
    (git_repo / "m2.txt").touch()
    code = resume_run(repo=git_repo, plan_path=None, run_id=None, rebuild=False, settings=settings)
    assert code == 0
    subjects = log_subjects(git_repo)
    assert sum("milestone 1" in s for s in subjects) == 1
    _, plan = load_plan(git_repo / PLAN_REL)
    assert len([p for p in plan.progress if "first" in p.text]) == 1


def test_rebuild_corrupt_state(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", status="needs_human", question="?")])
    settings = make_settings(fake_codex)
    assert start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False) == 3
    run_id = list_runs(git_repo)[0].run_id
    state_path(git_repo, run_id).write_text("{broken", encoding="utf-8")
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    code = resume_run(
        repo=git_repo, plan_path=Path(PLAN_REL), run_id=None, rebuild=True, settings=settings
    )
    assert code == 0
    assert load_state(state_path(git_repo, run_id)).status == "passed"
    assert list((git_repo / ".agent/runs" / run_id).glob("state.json.corrupt-*"))


def test_token_budget_stops_the_run(git_repo: Path, fake_codex: Path, scenario_file: Path) -> None:
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [implement("1", "touch m1.txt"), implement("2", "touch m2.txt"), approve_all()],
    )
    settings = make_settings(fake_codex, run={"max_tokens": 1})
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 4
    state = list_runs(git_repo)[0]
    assert state.status == "budget"
    assert "max-tokens" in (state.stop_reason or "")
    report = (git_repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "max-tokens" in report


@pytest.mark.slow
def test_sigterm_interrupts_and_saves(git_repo: Path, fake_codex: Path, tmp_path: Path) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    scenario = write_scenario(tmp_path / "hang.json", [rule("hang", fault={"kind": "hang"})])
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}
    argv = [sys.executable, "-m", "orchestrator", "-C", str(git_repo), "run", PLAN_REL]
    argv += ["--codex-bin", str(fake_codex)]
    with (tmp_path / "err.txt").open("w") as err:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        # the fake records its invocation once its SIGINT handler is in place
        wait_for(lambda: read_state(scenario).get("invocations"), 60, "the codex step")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)  # only against a hang
    assert code == 143, (tmp_path / "err.txt").read_text()
    state = list_runs(git_repo)[0]
    assert state.status == "interrupted"
    assert state.milestones[0].status == "interrupted"
    report = (git_repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "interrupted" in report
    events = [json.loads(e) for e in (git_repo / ".agent/runs" / state.run_id / "events.jsonl")
              .read_text().splitlines()]  # fmt: skip
    finished = [e for e in events if e["event"] == "run_finished"]
    assert finished[-1]["exit_code"] == 143
    # a quick stop: the step ended on its interrupt, it was not killed after a grace
    stops = [e["event"] for e in events if e["event"] in ("process_interrupt", "process_kill")]
    assert stops == ["process_interrupt"], stops


def test_repair_continues_in_a_new_thread_when_the_old_one_is_gone(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("first", ["grep -q good m1.txt"])])
    write_scenario(scenario_file, [implement("1", "echo bad > m1.txt", status="needs_human")])
    settings = make_settings(fake_codex)
    assert start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False) == 3
    state = list_runs(git_repo)[0]
    state.milestones[0].thread_id = "no-such-thread"
    save_state(state_path(git_repo, state.run_id), state)
    write_scenario(
        scenario_file,
        [
            rule("review", schema="verdict", times=1, answer=review_answer("changes_requested")),
            rule("repair", contains="step=repair", commands=["echo good > m1.txt"],
                 answer=step_answer()),
            approve_all(),
        ],
    )  # fmt: skip
    code = resume_run(repo=git_repo, plan_path=None, run_id=None, rebuild=False, settings=settings)
    assert code == 0
    repairs = [c for c in read_state(scenario_file)["invocations"] if c["rule"] == "repair"]
    assert [c["resumed"] for c in repairs] == [False]  # the lost thread failed before any rule
    assert "The ExecPlan" in repairs[0]["prompt"]  # a new thread gets the whole plan
