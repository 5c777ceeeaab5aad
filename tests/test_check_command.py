"""`orchestrator check`: the unedited template is not runnable; checks from the config count."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands.init import scaffold
from tests.supervisor_helpers import PLAN_REL, write_plan


def test_the_unedited_template_is_not_runnable(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scaffold(git_repo)
    template = ".agent/plans/TEMPLATE.md"
    assert main(["-C", str(git_repo), "check", template]) == 2
    out = capsys.readouterr().out
    placeholders = [ln for ln in out.splitlines() if "is a placeholder from the template" in ln]
    assert len(placeholders) == 3, out  # two milestones' checks and the plan-level one
    assert ": error: check 1.1 is a placeholder from the template (<a command that" in out
    assert "NOT runnable" in out.splitlines()[-1]


def test_checks_in_the_config_count_and_make_a_plan_runnable(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", [])])  # no check of its own, none plan-level
    assert main(["-C", str(git_repo), "check", PLAN_REL]) == 2
    assert "nothing can prove it done" in capsys.readouterr().out
    config = git_repo / ".agent" / "orchestrator.toml"
    config.write_text('[checks]\ncommands = ["true", "test -d .git"]\n', encoding="utf-8")
    assert main(["-C", str(git_repo), "check", PLAN_REL]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert ": runnable: 1 milestones (1), 2 checks (0 plan-level, 2 from the config)" in summary
