"""Whole runs on real-world-style plans: start where the plan stands, never erase a line.

Each plan of ``tests/data/standing`` runs with the fake codex, which finishes every
step at once; the plans' only check is a plan-level ``true``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.cli import main
from orchestrator.plan import (
    append_decision,
    append_discovery,
    load_plan,
    parse_plan,
    plan_marks,
    record_milestone_progress,
    write_outcomes,
)
from orchestrator.plan.document import PROGRESS_ITEM
from orchestrator.plan.edit import TEMPLATE_PLACEHOLDERS
from orchestrator.plan.text import line_body, split_lines
from orchestrator.plan.ticking import TIME_SLOT
from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    rule,
    step_answer,
    write_scenario,
)

STANDING = Path(__file__).parent / "data" / "standing"
PLANS = sorted(p.name for p in STANDING.glob("*.md"))
_IMPLEMENTED = re.compile(r"step=implement milestone=(\S+) ")


def _lines(text: str) -> list[str]:
    return [line_body(x) for x in split_lines(text)]


def _same_or_ticked(before: str, after: str) -> bool:
    if before == after:
        return True
    old, new = PROGRESS_ITEM.match(before), PROGRESS_ITEM.match(after)
    if old is None or new is None or old.group("mark") != " " or new.group("mark") == " ":
        return False
    words = TIME_SLOT.sub("", old.group("text").strip())  # a template's time slot gets filled
    return words in after


def lost_lines(before: str, after: str) -> list[str]:
    """The person's lines of ``before`` not found in ``after`` in order (ticks allowed)."""
    rest = iter(_lines(after))
    lost: list[str] = []
    for line in _lines(before):
        if line.strip() in TEMPLATE_PLACEHOLDERS:
            continue  # the template's placeholder, not the person's words
        for other in rest:
            if _same_or_ticked(line, other):
                break
        else:
            lost.append(line)
            rest = iter(_lines(after))
    return lost


def _setup(repo: Path, text: str, scenario: Path) -> Path:
    path = repo / PLAN_REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add plan")
    write_scenario(
        scenario,
        [
            rule(
                "implement",
                contains="step=implement",
                commands=["date +%s%N >> work.log"],
                answer=step_answer(
                    "did the milestone",
                    discoveries=[("the fake finishes at once", "it is a fake")],
                    decisions=[("keep it simple", "tests")],
                ),
            ),
            approve_all(),
        ],
    )
    return path


def _run(repo: Path, fake: Path, *flags: str) -> int:
    """`orchestrator run` on the plan with the fake codex."""
    return main(["-C", str(repo), "run", "--codex-bin", str(fake), *flags, PLAN_REL])


def _implemented(scenario: Path) -> list[str]:
    from orchestrator.testing.fake_codex import read_state

    found = [_IMPLEMENTED.search(i["prompt"]) for i in read_state(scenario)["invocations"]]
    return [m.group(1) for m in found if m]


@pytest.mark.slow
@pytest.mark.parametrize("name", PLANS)
def test_a_full_run_keeps_every_line_and_starts_where_the_plan_stands(
    name: str, git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    before = (STANDING / name).read_text(encoding="utf-8")
    _, plan = load_plan(STANDING / name)
    open_ = [m.milestone for m in plan_marks(before, plan) if not m.done]
    path = _setup(git_repo, before, scenario_file)
    head = git(git_repo, "rev-parse", "HEAD").strip()
    code = _run(git_repo, fake_codex, "--no-review")  # the review gate: tests below
    assert code == 0
    assert _implemented(scenario_file) == open_
    after = path.read_text(encoding="utf-8")
    if not open_:
        assert after == before
        assert git(git_repo, "rev-parse", "HEAD").strip() == head
        return
    assert lost_lines(before, after) == []
    again = parse_plan(after, path)
    assert after.count("<!-- orchestrator:outcomes -->") == 1
    # one Progress item per milestone at most: ticking never duplicates
    for m in again.milestones:
        named = [p for p in again.progress if f"Milestone {m.id}:" in p.text]
        assert len(named) <= 1
    head = git(git_repo, "rev-parse", "HEAD").strip()
    assert _run(git_repo, fake_codex) == 0  # done means done: a second run does nothing
    assert _implemented(scenario_file) == open_
    assert git(git_repo, "rev-parse", "HEAD").strip() == head


def test_a_fully_ticked_plan_runs_nothing(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(git_repo, (STANDING / "fully_ticked.md").read_text(encoding="utf-8"), scenario_file)
    head = git(git_repo, "rev-parse", "HEAD").strip()
    assert _run(git_repo, fake_codex) == 0
    out = capsys.readouterr().out
    assert f"{PLAN_REL} is complete: all 5 milestones are done." in out
    assert "milestone 3: marked done in the plan: ticked in Progress (line 14)" in out
    assert git(git_repo, "rev-parse", "HEAD").strip() == head
    assert git(git_repo, "status", "--porcelain") == ""
    assert _implemented(scenario_file) == []
    assert list_runs(git_repo) == []
    assert main(["-C", str(git_repo), "-q", "run", "--codex-bin", str(fake_codex), PLAN_REL]) == 0
    assert capsys.readouterr().out == ""  # quiet: a complete plan is a clean exit


def _untick_last(text: str, count: int) -> str:
    lines = split_lines(text)
    ticked = [i for i, x in enumerate(lines) if x.startswith("- [x]")]
    for i in ticked[-count:]:
        lines[i] = lines[i].replace("- [x]", "- [ ]", 1)
    return "".join(lines)


def test_the_same_plan_with_three_unticked_runs_exactly_those(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _untick_last((STANDING / "fully_ticked.md").read_text(encoding="utf-8"), 3)
    _setup(git_repo, text, scenario_file)
    assert _run(git_repo, fake_codex) == 0
    assert _implemented(scenario_file) == ["3", "4", "5"]
    err = capsys.readouterr().err
    assert "milestone 1 skipped: marked done in the plan: ticked in Progress (line 12)" in err
    subjects = git(git_repo, "log", "--format=%s").splitlines()
    assert [s for s in subjects if ": milestone " in s] == [
        "feature: milestone 5: Release",
        "feature: milestone 4: Documentation",
        "feature: milestone 3: Convert command",
    ]
    state = list_runs(git_repo)[0]
    assert [m.status for m in state.milestones] == ["skipped"] * 2 + ["passed"] * 3
    assert main(["-C", str(git_repo), "status"]) == 0
    shown = capsys.readouterr().out
    assert (
        "skipped      attempts 0  (marked done in the plan: ticked in Progress (line 13))" in shown
    )
    report = (git_repo / ".agent/runs" / state.run_id / "report.md").read_text(encoding="utf-8")
    assert "- Milestones passed: 3 of 5 (2 skipped)" in report
    assert "- Skipped: marked done in the plan: ticked in Progress (line 12)" in report
    outcomes = (git_repo / PLAN_REL).read_text(encoding="utf-8")
    assert f"Run {state.run_id}: 3 of 5 milestones passed, 2 skipped; all 5 are done." in outcomes
    assert "- Milestone 1 (Read TOML): skipped, marked done in the plan: ticked in Progress" in (
        outcomes
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--redo", "2"], ["2", "3", "4"]),
        (["--from", "2"], ["2", "3", "4"]),
        (["--only", "1"], ["1"]),
        (["--until", "3"], ["3"]),
        (["--until", "2"], []),  # every selected milestone is marked done: nothing to run
        (["--from", "1", "--until", "2", "--redo", "4"], ["1", "2"]),
    ],
)
def test_selection_flags(
    flags: list[str],
    expected: list[str],
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
) -> None:
    # milestones 1 and 2 are ticked, 3 and 4 open
    _setup(git_repo, (STANDING / "dated_progress.md").read_text(encoding="utf-8"), scenario_file)
    assert _run(git_repo, fake_codex, *flags) == 0
    assert _implemented(scenario_file) == expected


def test_redo_runs_a_milestone_committed_by_an_earlier_run_again(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    _setup(git_repo, (STANDING / "ranges.md").read_text(encoding="utf-8"), scenario_file)
    assert _run(git_repo, fake_codex) == 0
    assert _implemented(scenario_file) == ["3", "4"]
    assert _run(git_repo, fake_codex) == 0  # now complete: nothing runs
    assert _implemented(scenario_file) == ["3", "4"]
    assert _run(git_repo, fake_codex, "--redo", "3") == 0
    assert _implemented(scenario_file) == ["3", "4", "3"]
    text = (git_repo / PLAN_REL).read_text(encoding="utf-8")
    assert text.count("<!-- orchestrator:outcomes -->") == 1
    assert text.count("Milestone 3: move payment providers.") == 1


def test_an_unknown_milestone_is_a_usage_error(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(git_repo, (STANDING / "milestone_ids.md").read_text(encoding="utf-8"), scenario_file)
    assert _run(git_repo, fake_codex, "--only", "M9") == 2
    err = capsys.readouterr().err
    assert "--only M9" in err
    assert "M0, M1, M2, M3" in err
    assert _implemented(scenario_file) == []


STYLES = Path(__file__).parent / "data" / "plans"
EVERY_PLAN = [STANDING / n for n in PLANS] + sorted(STYLES.glob("*.md"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(EVERY_PLAN),
    order=st.lists(st.integers(0, 9), max_size=6),
    summary=st.text(alphabet="abc é—|#*`\n", max_size=30),
)
def test_edits_of_a_run_never_lose_a_persons_line(
    path: Path, order: list[int], summary: str
) -> None:
    """The edits a run makes, in any order, on both corpora: only ticks and insertions."""
    text, plan = load_plan(path)
    when = datetime(2026, 5, 6, 7, 8, tzinfo=UTC)
    after = text
    for n, index in enumerate(order):
        m = plan.milestones[index % len(plan.milestones)]
        at = when + timedelta(minutes=n)
        after = record_milestone_progress(
            after, milestone=m, summary=summary, when=at, milestones=plan.milestones
        )
        after = append_discovery(after, observation=summary or "o", evidence="e", when=at)
        after = append_decision(after, decision=summary or "d", rationale="r", when=at)
        after = write_outcomes(after, body=f"Run {n}: {summary}", when=at)
    assert lost_lines(text, after) == []
    assert after.count("<!-- orchestrator:outcomes -->") == (1 if order else 0)


def test_lost_lines_sees_an_erased_line() -> None:
    text = (STANDING / "notes_in_outcomes.md").read_text(encoding="utf-8")
    erased = text.replace("Lessons so far: writing the auth guard first", "Lessons")
    assert lost_lines(text, erased) == [
        "Lessons so far: writing the auth guard first made every later endpoint shorter."
    ]
    assert len(lost_lines(text, "")) == len(_lines(text)) - 2  # all but the placeholders
