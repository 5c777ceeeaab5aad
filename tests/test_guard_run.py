"""Guards on a whole run with the fake codex: checks that touch what they must not."""

from __future__ import annotations

from pathlib import Path

from orchestrator.run.session import start_run
from orchestrator.settings.model import VerifySettings
from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    implement,
    log_subjects,
    make_settings,
    write_plan,
    write_scenario,
)

CONFIG = ".agent/orchestrator.toml"


def _config(repo: Path) -> Path:
    path = repo / CONFIG
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[loop]\nmax_attempts = 2\n", encoding="utf-8")
    return path


def test_a_check_that_rewrites_the_config_stops_the_run(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    config = _config(git_repo)
    # checks run over a separate copy of the tree: a tampering check names the repository
    tamper = f"test -f m1.txt && printf '[checks]\\nshell = \"true\"\\n' >> {git_repo}/{CONFIG}"
    write_plan(git_repo, [("first", [tamper])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    # checks as they ran before verification copies: in the work tree, unsandboxed
    settings = make_settings(fake_codex).model_copy(
        update={"verify": VerifySettings(isolation="in_place", sandbox="off", baseline=False)}
    )
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 3
    state = list_runs(git_repo)[0]
    assert state.status == "needs_human"
    reason = state.milestones[0].stop_reason or ""
    assert reason.startswith("a validation check changed files")
    assert '+shell = "true"' in reason
    assert config.read_text() == "[loop]\nmax_attempts = 2\n"
    assert log_subjects(git_repo) == ["add plan", "initial"]
    assert git(git_repo, "status", "--porcelain", "--", ".agent") == ""


def test_a_check_that_plants_a_git_hook_or_config_stops_the_run(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    escaped = git_repo.parent / "escaped"
    plant = (
        f"test -f m1.txt && printf '#!/bin/sh\\ntouch {escaped}\\n' > .git/hooks/post-commit"
        " && chmod +x .git/hooks/post-commit && git config core.hooksPath .git/hooks"
    )
    write_plan(git_repo, [("first", [plant])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    settings = make_settings(fake_codex).model_copy(
        update={"verify": VerifySettings(isolation="in_place", sandbox="off", baseline=False)}
    )
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 3
    reason = list_runs(git_repo)[0].milestones[0].stop_reason or ""
    assert ".git/hooks/post-commit" in reason
    assert ".git/config" in reason
    assert not (git_repo / ".git/hooks/post-commit").exists()
    assert "hooksPath" not in (git_repo / ".git/config").read_text()
    assert not escaped.exists()
