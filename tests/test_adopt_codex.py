"""`adopt --with-codex`: a read-only codex step proposes checks for uncovered milestones;
its commands pass the same safety rules and are marked as model-proposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.supervisor_helpers import invocations, rule, write_scenario

PLAN = """# Two parts

## Purpose / Big Picture

Both parts work.

## Plan of Work

### Milestone 1: Design the parser

Sketch the grammar in `docs/grammar.md`.

### Milestone 2: Parser

Run `python -m pytest -q tests/test_parser.py`.
"""


def test_codex_fills_the_uncovered_milestone_with_safe_commands_only(
    tmp_path: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_scenario(
        scenario_file,
        [
            rule(
                "adopt",
                schema="proposed_checks",
                answer={
                    "proposed_checks": [
                        {"milestone": "1", "command": "test -s docs/grammar.md", "why": "doc"},
                        {"milestone": "1", "command": "rm -rf build", "why": "clean"},
                        {"milestone": "7", "command": "pytest", "why": "not asked"},
                    ]
                },
            )
        ],
    )
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN, encoding="utf-8")
    argv = ["adopt", "--write", "--with-codex", "--codex-bin", str(fake_codex), str(plan)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "proposed by codex" in out
    assert "rm -rf build" in out  # listed as refused, with its reason
    text = plan.read_text(encoding="utf-8")
    assert "test -s docs/grammar.md" in text
    assert "# proposed by a model: doc [not from the plan: review it]" in text
    assert "rm -rf build" not in text
    assert "\npytest\n" not in text
    [call] = invocations(scenario_file)
    assert "-s" in call["argv"]
    assert call["argv"][call["argv"].index("-s") + 1] == "read-only"
    assert main(["check", str(plan)]) == 0


def test_a_failed_codex_step_leaves_the_proposal_as_it_was(
    tmp_path: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_scenario(scenario_file, [rule("other", contains="nothing matches this prompt")])
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN, encoding="utf-8")
    argv = ["adopt", "--with-codex", "--codex-bin", str(fake_codex), str(plan)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "note: codex: the step ended" in out
    assert "milestone 2:" in out
