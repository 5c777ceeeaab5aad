"""`orchestrator check`: problems with line numbers, summary, exit codes, error cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.plan.lint import Severity, lint_plan
from orchestrator.plan.model import ExecPlan

ROOT = Path(__file__).parent.parent
CORPUS = Path(__file__).parent / "data" / "plans"


@pytest.mark.parametrize("plan", sorted((ROOT / ".agent" / "plans").glob("*.md")), ids=str)
def test_shipped_example_plans_are_runnable(plan: Path) -> None:
    report = lint_plan(plan)
    if plan.name == "TEMPLATE.md":  # runnable once its placeholder checks are filled in
        assert report.problems
        assert all("placeholder from the template" in p.message for p in report.problems)
        return
    assert report.runnable, report.problems
    assert report.problems == []


def test_example_plans_exist() -> None:
    names = {p.name for p in (ROOT / ".agent" / "plans").glob("*.md")}
    assert "TEMPLATE.md" in names
    assert len(names) >= 3


def test_check_prints_summary_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    plan = CORPUS / "phases.md"
    assert main(["check", str(plan)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"{plan}: runnable: 3 milestones (0, 1, 3), 3 checks")
    assert "'Phase' level-3 headings under Plan of Work" in out[-1]


def test_missing_checks_say_where_and_how(capsys: pytest.CaptureFixture[str]) -> None:
    plan = CORPUS / "no_milestones.md"
    assert main(["check", str(plan)]) == 2
    out = capsys.readouterr().out
    text = plan.read_text(encoding="utf-8").splitlines()
    line = text.index("## Plan of Work") + 1
    assert f"{plan}:{line}: error: the plan declares no validation command" in out
    assert "```sh validate" in out
    assert "## Validation and Acceptance" in out
    assert f"{plan}:{line}: warning: no milestone headings found" in out
    assert out.splitlines()[-1].startswith(f"{plan}: NOT runnable: 1 milestones (1)")


def test_milestone_without_check_is_named(tmp_path: Path) -> None:
    source = (CORPUS / "phases.md").read_text(encoding="utf-8")
    plan = tmp_path / "plan.md"
    plan.write_text(source.replace("```bash validate", "```bash", 1), encoding="utf-8")
    report = lint_plan(plan)
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    assert len(errors) == 1
    assert errors[0].line == source.splitlines().index("### Phase 0 – Spike") + 1
    assert "milestone 0 ('Spike') has no validation command" in errors[0].message
    assert "looks like commands" in errors[0].message
    assert not report.runnable


def test_duplicate_ids_and_empty_purpose(tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(
        "# P\n\n## Purpose\n\n## Plan of Work\n\n### Milestone 1: A\n\n### Milestone 1: B\n\n"
        "## Validation and Acceptance\n\n```sh validate\ntrue\n```\n",
        encoding="utf-8",
    )
    report = lint_plan(plan)
    found = {(p.line, p.severity, p.message.split(":")[0]) for p in report.problems}
    assert (3, Severity.ERROR, "the Purpose section is empty") in found
    assert (9, Severity.ERROR, "duplicate milestone id '1' ('Milestone 1") in found
    assert not report.runnable


def test_json_prints_the_parsed_plan(capsys: pytest.CaptureFixture[str]) -> None:
    plan = CORPUS / "milestones_section.md"
    assert main(["check", "--json", str(plan)]) == 0
    data = json.loads(capsys.readouterr().out)
    parsed = ExecPlan.model_validate(data)
    assert [m.id for m in parsed.milestones] == ["M0", "M1", "M2"]
    assert parsed.milestones[1].checks[0].command == "python -m pytest -q tests/test_build.py"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.md", None, "no such file"),
        ("adir", b"", "is a directory"),
        ("empty.md", b"  \n\n", "is empty"),
        ("binary.md", b"# T\n\x00\x01\x02", ":2: this is a binary file"),
        ("latin1.md", b"# Plan\n\n## Purpose\n\ncaf\xe9\n", ":5: the file is not valid UTF-8"),
        ("notes.md", b"# Shopping\n\n- milk\n", "does not look like an ExecPlan"),
    ],
)
def test_unreadable_plans_get_one_paragraph_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    expected: str,
) -> None:
    path = tmp_path / name
    if name == "adir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.startswith(f"orchestrator: {path}")
    assert expected in err
    assert "\n" not in err
    assert "Traceback" not in err
