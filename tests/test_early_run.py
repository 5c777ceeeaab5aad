"""`run`'s early exits: a file that is certainly not a plan, and the lock held.

As in tests/test_early_exits.py, each case runs the real CLI the way a person would
and forced down the full path; both must answer alike, the early one without the
heavy imports. The pre-scan behind the not-a-plan exit is held to the parser's
verdict on generated texts, and a real plan still runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from orchestrator import plan as plan_package
from orchestrator.errors import PlanError
from orchestrator.plan import parse_plan
from orchestrator.plan.prescan import headings_if_not_a_plan, not_a_plan
from tests.early_helpers import full_path_env, run_cli
from tests.lock_helpers import lock_holder
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    invocations,
    log_subjects,
    write_plan,
    write_scenario,
)

NOT_PLANS: dict[str, bytes | None] = {
    "notes": b"# just notes\n\nSome text # with a hash.\n",
    "no headings": b"hello\nworld\n",
    "closing hashes": b"\xef\xbb\xbf# Notes ##\r\n\r\n## Ideas\r\n",
    "empty": b" \n\n",
    "binary": b"# x\n\x00\x01",
    "latin-1": b"# caf\xe9\n",
    "missing": None,
}


@pytest.mark.parametrize("name", sorted(NOT_PLANS))
def test_run_of_a_file_that_is_not_a_plan_exits_early(git_repo: Path, name: str) -> None:
    data = NOT_PLANS[name]
    if data is not None:
        (git_repo / "notes.md").write_bytes(data)
    early = run_cli(git_repo, "run", "notes.md")
    full = run_cli(git_repo, "run", "notes.md", env=full_path_env())
    assert early.code == 2
    assert early.err.startswith(f"orchestrator: {git_repo / 'notes.md'}")
    assert early.heavy == []
    assert "structlog" in full.modules  # the full path configured logging
    assert early.same_answer(full), (early, full)


def test_run_while_the_lock_is_held_exits_75_early(git_repo: Path) -> None:
    write_plan(git_repo, [("Make the file", ["test -f done.txt"])])
    with lock_holder(git_repo, PLAN_REL, "20260101-000000-aaaa") as holder:
        early = run_cli(git_repo, "run", PLAN_REL)
        full = run_cli(git_repo, "run", PLAN_REL, env=full_path_env())
    assert early.code == 75
    assert f"`kill -INT {holder.pid}`" in early.err
    assert early.heavy == []
    assert "structlog" in full.modules  # the full path configured logging
    assert early.same_answer(full), (early, full)


def test_a_real_plan_is_run(git_repo: Path, fake_codex: Path, tmp_path: Path) -> None:
    write_plan(git_repo, [("Make the file", ["test -f done.txt"])])
    scenario = write_scenario(
        tmp_path / "scenario.json", [implement("1", "echo ok > done.txt"), approve_all()]
    )
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}
    ran = run_cli(git_repo, "run", PLAN_REL, "--codex-bin", str(fake_codex), env=env)
    assert ran.code == 0, ran.err
    assert invocations(scenario), "the run never reached codex"
    assert any("Make the file" in s for s in log_subjects(git_repo))


def test_the_plan_package_loads_its_names_on_use() -> None:
    assert sorted(plan_package.__all__) == sorted(plan_package._HOME)
    for name in plan_package.__all__:
        assert getattr(plan_package, name).__name__ == name


_LINES = [
    "# Notes", "## Purpose", "## Progress ##", "### Milestone 1: Make it", "# M1: title",
    "## Ideas", "# closing ##", "#", "# #", "#hashtag", "  # indented", "    # code",
    "- # in a list", "> # quoted", "1. # numbered", "\t# tab", "```", "~~~", "<div>",
    "| a | b |", "---", "===", "text", "more text # hash", "Milestone 2 adds it",
    "Phase 1: do it", "- [ ] Milestone 1: item", "", "\ufeff# bom",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=10), st.sampled_from(["\n", "\r\n", "\r"]))
@example(["# just notes", "", "Some text."], "\n")
def test_the_prescan_agrees_with_the_parser(lines: list[str], newline: str) -> None:
    """Whenever the pre-scan says "not a plan, N headings", the parser says the same."""
    text = newline.join(lines) + newline
    path = Path("notes.md")
    headings = headings_if_not_a_plan(text)
    if headings is None:
        return
    with pytest.raises(PlanError) as info:
        parse_plan(text, path)
    assert info.value.message == not_a_plan(path, headings).message


def test_the_prescan_answers_plain_notes_and_leaves_plans_to_the_parser() -> None:
    assert headings_if_not_a_plan("# just notes\n\nSome text.\n") == 1
    assert headings_if_not_a_plan("plain\ntext\n") == 0
    assert headings_if_not_a_plan("# Plan\n\n## Purpose\n\nWhy.\n") is None
    assert headings_if_not_a_plan("# Notes\n\n```\n# not a heading\n```\n") is None
