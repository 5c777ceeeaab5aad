"""adopt on the labelled corpus: what must be adopted is, what must not be never is,
and ``--write`` makes the plan runnable by inserting lines only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.plan.adopt.derive import derive
from orchestrator.plan.adopt.write import only_insertions
from orchestrator.plan.document import parse_plan
from orchestrator.plan.text import read_plan_text
from tests.adopt_corpus import Labelled, corpus, norm

CASES = corpus()
IDS = [c.name for c in CASES]


def test_the_corpus_is_big_and_varied() -> None:
    assert len(CASES) >= 10
    assert sum(len(c.adopt) for c in CASES) >= 40
    assert sum(len(c.refuse) for c in CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_labelled_commands_are_adopted_where_they_belong(case: Labelled) -> None:
    text = read_plan_text(case.plan)
    proposal = derive(text, case.plan)
    derived = {norm(c.command): c for c in proposal.checks}
    for label in case.adopt:
        command = norm(label["command"])
        assert command in derived, f"{case.name}: not adopted: {command}"
        check = derived[command]
        if "milestone" in label:  # absent: the plan's milestones are not read as written today
            assert check.milestone == label["milestone"], f"{case.name}: {command} misplaced"
        for fragment in label.get("expect", []):
            assert any(fragment in e for e in check.expect), f"{command}: {check.expect}"
        assert check.why
        assert check.line > 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_unsafe_commands_are_never_adopted(case: Labelled) -> None:
    text = read_plan_text(case.plan)
    adopted = {norm(c.command) for c in derive(text, case.plan).checks}
    for command in case.refuse:
        assert norm(command) not in adopted, f"{case.name}: adopted an unsafe command: {command}"
        assert not any(norm(command) in a for a in adopted), command


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_write_inserts_only_and_makes_the_plan_runnable(
    case: Labelled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / case.plan.name
    shutil.copyfile(case.plan, plan)
    before = plan.read_bytes()
    old = read_plan_text(plan)
    assert main(["adopt", "--write", str(plan)]) == 0
    after = plan.read_bytes()
    new = read_plan_text(plan)
    assert only_insertions(old, new)
    assert after.startswith(b"\xef\xbb\xbf") == before.startswith(b"\xef\xbb\xbf")
    if b"\r\n" in before:
        assert b"\n" not in after.replace(b"\r\n", b""), "a new line does not use CRLF"
    old_ids = [m.id for m in parse_plan(old, plan).milestones]
    assert [m.id for m in parse_plan(new, plan).milestones] == old_ids
    capsys.readouterr()
    expected = 0 if case.runnable_after_write else 2
    assert main(["check", str(plan)]) == expected, capsys.readouterr().out
    assert "Traceback" not in capsys.readouterr().err
