"""Hooks fired by a real run: in the repository, with ORCH_REPO, bounded, minimal env."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.run.session import start_run
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    make_settings,
    write_plan,
    write_scenario,
)


def test_run_hooks_run_in_the_repository_with_orch_repo(
    git_repo: Path, fake_codex: Path, scenario_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-hooks")
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    seen = git_repo.parent / "seen.txt"
    line = f'echo "$ORCH_EVENT|$ORCH_REPO|$PWD|${{OPENAI_API_KEY-withheld}}" >> {seen}'
    settings = make_settings(fake_codex, hooks={"milestone_passed": [line], "run_finished": [line]})
    assert start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False) == 0
    rows = [r.split("|") for r in seen.read_text().splitlines()]
    repo = str(git_repo.resolve())
    assert rows == [
        ["milestone_passed", repo, repo, "withheld"],
        ["run_finished", repo, repo, "withheld"],
    ]
