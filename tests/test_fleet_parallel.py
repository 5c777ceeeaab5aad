"""`orchestrator run PLAN_A PLAN_B --parallel N`: plans side by side in worktrees."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.supervisor_helpers import (
    approve_all,
    git,
    implement,
    milestones_on,
    write_plan,
    write_scenario,
)

PLANS = (".agent/plans/alpha.md", ".agent/plans/beta.md")
BRANCHES = ("orchestrator/alpha", "orchestrator/beta")


def _two_plans(repo: Path) -> None:
    for plan, name in zip(PLANS, ("Alpha", "Beta"), strict=True):
        milestones = [(f"{name} one", ["test -f m1.txt"]), (f"{name} two", ["test -f m2.txt"])]
        write_plan(repo, milestones, commit=False).rename(repo / plan)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "two plans")


@pytest.fixture
def scenario(git_repo: Path, tmp_path: Path) -> Path:
    """Two committed plans and a scenario in which each milestone passes at once."""
    _two_plans(git_repo)
    rules = [implement("1", "touch m1.txt"), implement("2", "touch m2.txt"), approve_all()]
    return write_scenario(tmp_path / "s.json", rules)


def _command(repo: Path, fake: Path, *extra: str, parallel: int = 2) -> list[str]:
    return [sys.executable, "-m", "orchestrator", "-C", str(repo), "run", *PLANS,
            "--parallel", str(parallel), "--codex-bin", str(fake), *extra]  # fmt: skip


def _env(scenario: Path) -> dict[str, str]:
    return {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}


def _run(
    repo: Path, fake: Path, scenario: Path, *extra: str, parallel: int = 2
) -> subprocess.CompletedProcess[str]:
    command = _command(repo, fake, *extra, parallel=parallel)
    return subprocess.run(command, env=_env(scenario), capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip


def _each_milestone_committed_once(repo: Path) -> None:
    for branch in BRANCHES:
        assert milestones_on(repo, branch) == ["2", "1"]


def _user_view(repo: Path) -> tuple[str, str, str]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain=v1", "-uall"),
            git(repo, "diff", "--cached"))  # fmt: skip


def _with_user_changes(repo: Path) -> None:
    (repo / "notes.txt").write_text("mine, untracked\n", encoding="utf-8")
    (repo / "README.md").write_text("# sample, staged edit\n", encoding="utf-8")
    git(repo, "add", "README.md")


def test_two_plans_run_in_their_own_worktrees_and_the_checkout_stays_untouched(
    git_repo: Path, fake_codex: Path, scenario: Path
) -> None:
    _with_user_changes(git_repo)
    before = _user_view(git_repo)
    done = _run(git_repo, fake_codex, scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _user_view(git_repo) == before
    _each_milestone_committed_once(git_repo)
    for branch in BRANCHES:
        assert f"git merge {branch}" in done.stdout
    status = subprocess.run([sys.executable, "-m", "orchestrator", "-C", str(git_repo), "status",
                             "--json"], capture_output=True, text=True, check=True)  # fmt: skip
    trees = json.loads(status.stdout)["worktrees"]
    assert [(Path(t["path"]).name, t["runs"][0]["status"]) for t in trees] == [
        ("alpha", "passed"), ("beta", "passed")]  # fmt: skip
    # The same line again: both plans are done, nothing is committed.
    heads = [git(git_repo, "rev-parse", b) for b in BRANCHES]
    again = _run(git_repo, fake_codex, scenario)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("already done") == 2
    assert [git(git_repo, "rev-parse", b) for b in BRANCHES] == heads
    assert _user_view(git_repo) == before


def test_a_plan_the_checkout_has_not_committed_is_carried_into_its_worktree(
    git_repo: Path, fake_codex: Path, scenario: Path
) -> None:
    plan = git_repo / PLANS[1]
    plan.write_text(plan.read_text(encoding="utf-8").replace("Beta two", "Beta 2"), "utf-8")
    done = _run(git_repo, fake_codex, scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = git(git_repo, "show", f"orchestrator/beta:{PLANS[1]}")
    assert "Milestone 2: Beta 2" in shown
    assert git(git_repo, "status", "--porcelain").strip() == f"M {PLANS[1]}"


def _running_everywhere(repo: Path, milestone: str) -> bool:
    for slug in ("alpha", "beta"):
        runs = repo / ".agent" / "worktrees" / slug / ".agent" / "runs"
        states = list(runs.glob("*/state.json")) if runs.is_dir() else []
        if not states:
            return False
        data = json.loads(states[0].read_text(encoding="utf-8"))
        now = next((m for m in data["milestones"] if m["id"] == milestone), None)
        if now is None or now["status"] != "running":
            return False
    return True


def test_a_killed_batch_resumes_every_plan_with_each_milestone_committed_once(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    _two_plans(git_repo)
    scenario = write_scenario(
        tmp_path / "s.json",
        [implement("1", "touch m1.txt"), implement("2", "sleep 3", "touch m2.txt"),
         approve_all()],
    )  # fmt: skip
    batch = subprocess.Popen(_command(git_repo, fake_codex), env=_env(scenario),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not _running_everywhere(git_repo, "2"):
            assert batch.poll() is None, "the batch ended before milestone 2 started"
            assert time.monotonic() < deadline, "milestone 2 never started in both plans"
            time.sleep(0.05)
        tree = [batch.pid, *(p.pid for p in psutil.Process(batch.pid).children(recursive=True))]
        for pid in tree:  # the whole batch dies at once, children included
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    finally:
        batch.kill()
        batch.wait()
    again = _run(git_repo, fake_codex, scenario)
    assert again.returncode == 0, again.stdout + again.stderr
    _each_milestone_committed_once(git_repo)


def test_the_live_table_shows_each_plan_with_its_branch_state_and_tokens() -> None:
    from rich.console import Console

    from orchestrator.ui.batch_view import BatchRow, render_batch

    rows = [BatchRow(PLANS[0], "orchestrator/alpha", "running", "milestone 2", 1320),
            BatchRow(PLANS[1], "orchestrator/beta", "waiting", "-", 0)]  # fmt: skip
    console = Console(width=100, record=True, no_color=True)
    console.print(render_batch(rows))
    lines = console.export_text().splitlines()
    alpha = next(line for line in lines if "alpha.md" in line)
    for shown in ("orchestrator/alpha", "running", "milestone 2", "1320"):
        assert shown in alpha
    assert "waiting" in next(line for line in lines if "beta.md" in line)


def test_the_batch_shares_one_token_budget_and_the_same_line_continues(
    git_repo: Path, fake_codex: Path, scenario: Path
) -> None:
    # One at a time: alpha spends 660 tokens of the 700 (the fake codex's steps report
    # 110-330 each), so beta starts with the 40 left and stops after its first step.
    limited = _run(git_repo, fake_codex, scenario, "--max-tokens", "700", parallel=1)
    assert limited.returncode == 4, limited.stdout + limited.stderr
    assert f"{PLANS[0]}: passed on branch orchestrator/alpha" in limited.stdout
    assert f"{PLANS[1]}: not finished" in limited.stdout
    beta = git_repo / ".agent" / "worktrees" / "beta" / ".agent" / "runs"
    state = json.loads(next(beta.glob("*/state.json")).read_text(encoding="utf-8"))
    assert state["status"] == "budget"
    assert state["tokens_total"] <= 330  # one step on what the batch had left
    assert "Run the same line again" in limited.stdout
    done = _run(git_repo, fake_codex, scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already done" in done.stdout
    _each_milestone_committed_once(git_repo)


def test_quiet_batch_is_silent_when_clean_and_says_what_next_on_stderr_otherwise(
    git_repo: Path, fake_codex: Path, scenario: Path
) -> None:
    limited = _run(git_repo, fake_codex, scenario, "--quiet", "--max-tokens", "700", parallel=1)
    assert limited.returncode == 4, limited.stdout + limited.stderr
    assert limited.stdout == ""
    assert f"{PLANS[1]}: not finished" in limited.stderr
    assert limited.stderr.rstrip().endswith(
        "Run the same line again to continue the unfinished plans."
    )
    done = _run(git_repo, fake_codex, scenario, "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_parallel_zero_is_a_usage_error_not_one_at_a_time(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import main

    _two_plans(git_repo)
    assert main(["-C", str(git_repo), "run", *PLANS, "--parallel", "0"]) == 2
    assert "--parallel needs a number of plans to run at once, 1 or more" in capsys.readouterr().err
    assert not (git_repo / ".agent" / "worktrees").exists()
