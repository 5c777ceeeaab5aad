"""Surgical edits: properties over generated plans, and the exact shapes written."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.plan import (
    add_progress_item,
    append_decision,
    append_discovery,
    parse_plan,
    read_plan_text,
    record_milestone_progress,
    write_outcomes,
    write_plan_atomic,
)
from orchestrator.plan.document import outline
from orchestrator.plan.edit import OUTCOMES_CLOSE, OUTCOMES_OPEN
from orchestrator.plan.model import SectionKind
from orchestrator.plan.sections import LIVING
from orchestrator.plan.text import BOM, line_body, split_lines

WHEN = datetime(2026, 11, 21, 14, 3, 59, tzinfo=UTC)
CORPUS = Path(__file__).parent / "data" / "plans"

HEADINGS = {
    SectionKind.PURPOSE: ["Purpose / Big Picture", "Goal", "1. Purpose"],
    SectionKind.PROGRESS: ["Progress", "进度 / Progress"],
    SectionKind.SURPRISES: ["Surprises & Discoveries", "Surprises and discoveries"],
    SectionKind.DECISIONS: ["Decision Log", "Decisions"],
    SectionKind.OUTCOMES: ["Outcomes & Retrospective", "Outcomes and retrospective"],
    SectionKind.CONTEXT: ["Context and Orientation"],
    SectionKind.PLAN_OF_WORK: ["Plan of Work"],
    SectionKind.VALIDATION: ["Validation and Acceptance"],
}

_words = st.text(alphabet="abcdefgh ÄéΩ中文 `*|", min_size=1, max_size=20).map(
    lambda s: s.strip() or "x"
)
_paragraph = st.lists(_words, min_size=1, max_size=3)
_list = st.lists(_words.map(lambda w: f"- {w}"), min_size=1, max_size=3)
_checks = st.lists(
    st.tuples(st.booleans(), _words).map(lambda t: f"- [{'x' if t[0] else ' '}] {t[1]}"),
    min_size=1,
    max_size=3,
)
_fence = st.lists(_words.map(lambda w: f"# {w}"), max_size=3).map(
    lambda body: ["````sh", *body, "## not a heading", "````"]
)
_table = st.lists(_words.map(lambda w: f"| {w} | y |"), max_size=2).map(
    lambda rows: ["| Date | Decision |", "| --- | --- |", *rows]
)
_content = st.lists(st.one_of(_paragraph, _list, _checks, _fence, _table), max_size=3).map(
    lambda blocks: [line for b in blocks for line in [*b, ""]]
)


def fixed_sections_digest(text: str) -> str:
    """sha256 of what people wrote: the plan without its living sections
    (blank lines and endings ignored)."""
    blocks, _, sections = outline(text)
    living: set[int] = set()
    for s in sections:
        if s.kind in LIVING:
            living.update(range(s.span.start, s.span.end + 1))
    kept = [
        line_body(raw).lstrip(BOM).rstrip()
        for n, raw in enumerate(blocks.lines, start=1)
        if n not in living
    ]
    data = "\n".join(x for x in kept if x)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@st.composite
def plans(draw: st.DrawFn) -> str:
    kinds = draw(st.lists(st.sampled_from(list(HEADINGS)), unique=True, min_size=1))
    lines = ["# Generated plan", ""]
    if draw(st.booleans()):
        lines = ["---", "title: t", "---", "", *lines]
    for kind in kinds:
        lines += [f"## {draw(st.sampled_from(HEADINGS[kind]))}", ""]
        lines += draw(_content)
        if kind is SectionKind.PLAN_OF_WORK:
            for n in range(draw(st.integers(0, 3))):
                lines += [f"### Milestone {n}: step {n}", "", "do it", ""]
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    text = bom + nl.join(lines)
    return text + (nl if draw(st.booleans()) else "")


def _subsequence_rest(old: list[str], new: list[str]) -> list[int] | None:
    """Indices of ``new`` lines not used to match ``old`` in order, or None."""
    rest: list[int] = []
    i = 0
    for j, line in enumerate(new):
        if i < len(old) and line == old[i]:
            i += 1
        else:
            rest.append(j)
    return rest if i == len(old) else None


Edit = Callable[[str], str]
EDITS: dict[SectionKind, Edit] = {
    SectionKind.PROGRESS: lambda t: add_progress_item(
        t, item="did a thing", checked=True, when=WHEN
    ),
    SectionKind.SURPRISES: lambda t: append_discovery(
        t, observation="it was odd", evidence="see log", when=WHEN
    ),
    SectionKind.DECISIONS: lambda t: append_decision(
        t, decision="use X", rationale="Y is slow", when=WHEN
    ),
    SectionKind.OUTCOMES: lambda t: write_outcomes(t, body="Shipped.", when=WHEN),
}


@settings(max_examples=150, deadline=None)
@given(plans())
def test_parse_then_write_reproduces_input(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("rt") / "plan.md"
    path.write_bytes(text.encode("utf-8"))
    read = read_plan_text(path)
    assert read == text
    parse_plan(read, path)
    write_plan_atomic(path, read)
    assert path.read_bytes() == text.encode("utf-8")
    assert "".join(split_lines(text)) == text


@settings(max_examples=150, deadline=None)
@given(plans(), st.sampled_from(list(EDITS)))
def test_append_edit_changes_only_its_own_lines(text: str, kind: SectionKind) -> None:
    new = EDITS[kind](text)
    old_bodies = [line_body(x) for x in split_lines(text)]
    new_lines = split_lines(new)
    rest = _subsequence_rest(old_bodies, [line_body(x) for x in new_lines])
    assert rest is not None, "an existing line was changed or reordered"
    plan = parse_plan(new, Path("p.md")) if parse_ok(new) else None
    if plan is not None:
        section = plan.section(kind)
        assert section is not None
        for j in rest:
            if line_body(new_lines[j]).strip():
                assert section.span.start <= j + 1 <= section.span.end
    nl = "\r\n" if "\r\n" in text else "\n"
    assert all(x.endswith(nl) for x in new_lines[:-1])
    assert new.startswith("\ufeff") == text.startswith("\ufeff")
    assert fixed_sections_digest(new) == fixed_sections_digest(text)


def _outside(text: str, kind: SectionKind) -> list[str]:
    from orchestrator.plan.document import outline

    _, _, sections = outline(text)
    section = next((s for s in sections if s.kind is kind), None)
    lines = [line_body(x) for x in split_lines(text)]
    if section is None:
        return lines
    return lines[: section.span.start - 1] + lines[section.span.end :]


def parse_ok(text: str) -> bool:
    try:
        parse_plan(text, Path("p.md"))
    except Exception:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(plans())
def test_write_outcomes_keeps_every_line_and_updates_its_own_block(text: str) -> None:
    new = write_outcomes(text, body="Shipped.\n\nAll checks pass.", when=WHEN)
    assert write_outcomes(new, body="Shipped.\n\nAll checks pass.", when=WHEN) == new
    later = write_outcomes(new, body="Second run.", when=WHEN + timedelta(days=1))
    old_bodies = [line_body(x) for x in split_lines(text)]
    for after in (new, later):
        assert _subsequence_rest(old_bodies, [line_body(x) for x in split_lines(after)])
        assert after.count(OUTCOMES_OPEN) == after.count(OUTCOMES_CLOSE) == 1
        assert fixed_sections_digest(after) == fixed_sections_digest(text)
    assert "All checks pass." in new
    assert "Orchestrator, updated 2026-11-21 14:03Z:" in new
    assert "All checks pass." not in later
    assert "Second run." in later
    assert "Orchestrator, updated 2026-11-22 14:03Z:" in later


def test_write_outcomes_appends_below_what_people_wrote() -> None:
    text = (
        "# P\n\n## Purpose\n\nx\n\n## Outcomes & Retrospective\n\n"
        "- 2026-01-02: Milestone 1 shipped; the cache halved cold starts.\n\n"
        "## Context and Orientation\n\ny\n"
    )
    new = write_outcomes(text, body="Run r1: all 2 milestones passed.", when=WHEN)
    person = "- 2026-01-02: Milestone 1 shipped; the cache halved cold starts.\n"
    assert new.index(person) < new.index(OUTCOMES_OPEN) < new.index("## Context")
    assert f"{person}\n{OUTCOMES_OPEN}\n" in new
    again = write_outcomes(new, body="Run r2: all 2 milestones passed.", when=WHEN)
    assert person in again
    assert "r1" not in again
    assert again.count(OUTCOMES_OPEN) == 1


def test_the_template_placeholder_gives_way_to_the_first_entry() -> None:
    text = (
        "# P\n\n## Purpose\n\nx\n\n## Surprises & Discoveries\n\nNone yet.\n\n"
        "## Outcomes & Retrospective\n\nNot started.\n\n## Decision Log\n\n"
        "None yet, but see the ADR folder.\n"
    )
    new = append_discovery(text, observation="odd", evidence="", when=WHEN)
    new = write_outcomes(new, body="b", when=WHEN)
    new = append_decision(new, decision="d", rationale="", when=WHEN)
    assert "None yet.\n" not in new
    assert "Not started." not in new
    assert "## Surprises & Discoveries\n\n- (2026-11-21 14:03Z) Observation: odd\n\n" in new
    assert f"## Outcomes & Retrospective\n\n{OUTCOMES_OPEN}\n" in new
    # a sentence that only starts like the placeholder is the person's: it stays
    assert "None yet, but see the ADR folder.\n\n- (2026-11-21 14:03Z) Decision: d" in new
    # only the template's exact words are its text; anything else is the person's
    lowered = text.replace("None yet.", "none yet")
    lowered = append_discovery(lowered, observation="o", evidence="", when=WHEN)
    assert (
        "## Surprises & Discoveries\n\nnone yet\n\n- (2026-11-21 14:03Z) Observation: o" in lowered
    )


@settings(max_examples=100, deadline=None)
@given(plans())
def test_record_milestone_progress_is_idempotent(text: str) -> None:
    if not parse_ok(text):
        return
    plan = parse_plan(text, Path("p.md"))
    for m in plan.milestones:
        once = record_milestone_progress(text, milestone=m, summary="done", when=WHEN)
        later = WHEN + timedelta(hours=1)
        assert record_milestone_progress(once, milestone=m, summary="done", when=later) == once
        items = parse_plan(once, Path("p.md")).progress
        assert sum(f"Milestone {m.id}: " in p.text for p in items) >= 1
        text = once


PLAN = """# Plan

## Purpose

Do things.

## Progress

- [ ] Milestone 1: First
- [ ] Milestone 10: Tenth

## Context and Orientation

Nothing.

## Plan of Work

### Milestone 1: First

### Milestone 10: Tenth
"""


def test_record_ticks_the_matching_item_only() -> None:
    plan = parse_plan(PLAN, Path("p.md"))
    new = record_milestone_progress(PLAN, milestone=plan.milestone("1"), summary="ok", when=WHEN)
    assert "- [x] (2026-11-21 14:03Z) Milestone 1: First\n" in new  # the person's words only
    assert "- [ ] Milestone 10: Tenth\n" in new
    assert len(split_lines(new)) == len(split_lines(PLAN))


def test_record_appends_when_no_item_matches() -> None:
    text = PLAN.replace("- [ ] Milestone 10: Tenth\n", "")
    plan = parse_plan(text, Path("p.md"))
    m = plan.milestone("10")
    new = record_milestone_progress(text, milestone=m, summary="fast", when=WHEN)
    assert "- [ ] Milestone 1: First\n- [x] (2026-11-21 14:03Z) Milestone 10: Tenth — fast\n" in new
    assert record_milestone_progress(new, milestone=m, summary="fast", when=WHEN) == new


def test_missing_living_sections_are_created_in_canonical_order() -> None:
    text = PLAN.replace(
        "## Progress\n\n- [ ] Milestone 1: First\n- [ ] Milestone 10: Tenth\n\n", ""
    )
    new = append_decision(text, decision="d", rationale="r", when=WHEN)
    new = append_discovery(new, observation="o", evidence="", when=WHEN)
    new = add_progress_item(new, item="started", checked=False, when=None)
    new = write_outcomes(new, body="done", when=WHEN)
    order = [s.kind for s in parse_plan(new, Path("p.md")).sections if s.kind is not None]
    assert order == [
        SectionKind.PURPOSE,
        SectionKind.PROGRESS,
        SectionKind.SURPRISES,
        SectionKind.DECISIONS,
        SectionKind.OUTCOMES,
        SectionKind.CONTEXT,
        SectionKind.PLAN_OF_WORK,
    ]
    assert "## Progress\n\n- [ ] started\n\n## Surprises & Discoveries\n" in new
    assert "- (2026-11-21 14:03Z) Decision: d\n  Rationale: r\n" in new


def test_decision_row_goes_into_an_existing_table_with_crlf(tmp_path: Path) -> None:
    source = CORPUS / "no_milestones.md"
    text = read_plan_text(source).replace("\n", "\r\n")
    new = append_decision(text, decision="Use a | pipe", rationale="why\nnot", when=WHEN)
    row = "| 2026-11-21 14:03Z | Use a \\| pipe | why not |\r\n"
    assert row in new
    old_rows = "| Sleeps hide the race rather than fix it |\r\n"
    assert old_rows + row in new
    assert "\n" not in new.replace("\r\n", "")


def test_timestamps_are_utc_and_naive_datetimes_are_refused() -> None:
    tokyo = datetime(2026, 11, 21, 23, 3, tzinfo=timezone(timedelta(hours=9)))
    new = add_progress_item(PLAN, item="x", checked=True, when=tokyo)
    assert "- [x] (2026-11-21 14:03Z) x" in new
    with pytest.raises(ValueError, match="timezone-aware"):
        add_progress_item(PLAN, item="x", checked=True, when=datetime(2026, 1, 1))


def test_digest_sees_fixed_edits_only() -> None:
    base = fixed_sections_digest(PLAN)
    assert fixed_sections_digest(PLAN.replace("- [ ] Milestone 1", "- [x] Milestone 1")) == base
    assert fixed_sections_digest(PLAN.replace("Do things.", "Do other things.")) != base
    assert fixed_sections_digest(PLAN.replace("\n", "\r\n")) == base


def test_write_plan_atomic_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    write_plan_atomic(path, "\ufeffnew\r\n")
    assert path.read_bytes() == b"\xef\xbb\xbfnew\r\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["plan.md"]


def test_a_fence_opened_in_a_list_item_gets_no_closing_marker() -> None:
    text = (
        "# P\n\n## Purpose\n\nx\n\n## Surprises & Discoveries\n\n- ```\n\n"
        "## Validation and Acceptance\n\nrun it\n"
    )
    new = append_discovery(text, observation="odd", evidence="log", when=WHEN)
    assert "\n```\n" not in new  # a column-0 marker would open a fence to the end
    plan = parse_plan(new, Path("p.md"))
    assert plan.section(SectionKind.VALIDATION) is not None
    assert fixed_sections_digest(new) == fixed_sections_digest(text)
