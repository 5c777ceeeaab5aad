"""What a run depends on is pinned: a change since it started is refused on resume (and
when `run` continues it) with exit 2 and the diff, unless --accept-changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    implement,
    run_cli,
    write_plan,
    write_scenario,
)

CONFIG = ".agent/orchestrator.toml"


def _cli(repo: Path, fake: Path, command: str, *args: str) -> int:
    return run_cli(repo, fake, command, "-q", *args)


@pytest.fixture
def stopped(git_repo: Path, fake_codex: Path, scenario_file: Path) -> Path:
    """A run of a one-milestone plan stopped for a human, the config and a hook committed."""
    (git_repo / ".agent").mkdir(exist_ok=True)
    (git_repo / CONFIG).write_text(
        '[loop]\nmax_attempts = 2\n\n[hooks]\ngave_up = ["./scripts/page.sh"]\n', encoding="utf-8"
    )
    (git_repo / "scripts").mkdir()
    (git_repo / "scripts/page.sh").write_text("#!/bin/sh\necho paged\n", encoding="utf-8")
    (git_repo / "scripts/page.sh").chmod(0o755)
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", status="needs_human", question="which?")])
    assert _cli(git_repo, fake_codex, "run", PLAN_REL) == 3
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    (git_repo / "m1.txt").touch()  # the person's answer
    return git_repo


def _refused(repo: Path, fake: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    before = list_runs(repo)[0]
    assert _cli(repo, fake, *args) == 2
    err = capsys.readouterr().err
    assert "changed since it started" in err
    assert "--accept-changes" in err
    after = list_runs(repo)[0]
    assert (after.run_id, after.status, after.pinned_settings) == (
        before.run_id,
        before.status,
        before.pinned_settings,
    )
    return err


def test_a_changed_checks_shell_is_refused_then_accepted(
    stopped: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (stopped / CONFIG).open("a", encoding="utf-8") as f:
        f.write('\n[checks]\nshell = "sh"\n')
    err = _refused(stopped, fake_codex, capsys, "resume")
    assert 'checks.shell: "bash" -> "sh"' in err
    assert _cli(stopped, fake_codex, "resume", "--accept-changes") == 0
    state = list_runs(stopped)[0]
    assert state.status == "passed"
    assert state.pinned_settings["checks.shell"] == "sh"


def test_planted_hook_and_review_gate_off_are_refused(
    stopped: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (stopped / CONFIG).read_text(encoding="utf-8")
    config = config.replace('gave_up = ["./scripts/page.sh"]', 'gave_up = ["touch /tmp/x"]')
    (stopped / CONFIG).write_text(config + "\n[verify]\nisolation = 'in_place'\n")
    plan = stopped / PLAN_REL
    plan.write_text("review: off\n\n" + plan.read_text(encoding="utf-8"), encoding="utf-8")
    err = _refused(stopped, fake_codex, capsys, "resume")
    assert 'hooks.gave_up: ["./scripts/page.sh"] -> ["touch /tmp/x"]' in err
    assert "loop.review_gate: true -> false" in err
    assert 'verify.isolation: "copy" -> "in_place"' in err
    # the hook script is no longer named, so it is no longer pinned either
    assert "file scripts/page.sh: sha256" in err


def test_an_edited_hook_script_is_refused(
    stopped: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (stopped / "scripts/page.sh").write_text("#!/bin/sh\ntouch /tmp/escaped\n")
    err = _refused(stopped, fake_codex, capsys, "resume")
    assert "file scripts/page.sh: sha256 " in err


def test_edited_validate_block_is_refused_when_run_continues_too(
    stopped: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = stopped / PLAN_REL
    plan.write_text(plan.read_text().replace("test -f m1.txt", "true"), encoding="utf-8")
    err = _refused(stopped, fake_codex, capsys, "run", PLAN_REL)
    assert 'the checks of milestone 1: ["test -f m1.txt"] -> ["true"]' in err
    _refused(stopped, fake_codex, capsys, "resume")
    git(stopped, "status")  # the repository is untouched and usable
    assert _cli(stopped, fake_codex, "run", PLAN_REL, "--accept-changes") == 0
    assert list_runs(stopped)[0].pinned_checks["1"] == ["true"]
