"""Where a plan stands, and ticking in its own style, on real-world-style plans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.plan import load_plan, parse_plan, plan_marks, record_milestone_progress
from orchestrator.plan.naming import mentioned_labels
from orchestrator.plan.text import split_lines

STANDING = Path(__file__).parent / "data" / "standing"
WHEN = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)

# What each plan's authors marked done, in the styles public ExecPlans use.
DONE = {
    "chinese_progress.md": ["1"],
    "dated_progress.md": ["1", "2"],  # "Milestone 2 (wire ...)": other words than the heading
    "fully_ticked.md": ["1", "2", "3", "4", "5"],
    "heading_marks.md": ["1", "2"],  # ✅ on the heading; all boxes of its own list ticked
    "list_milestones.md": ["C0", "C1"],  # "- [x] C1 — ..." under Milestones, no headings
    "milestone_ids.md": ["M0", "M1"],  # ids, dates after the text
    "nested_progress.md": ["1"],  # tasks under "### Milestone 1" / "**M3: delivery**" labels
    "notes_in_outcomes.md": [],
    "phases_partial.md": ["1"],  # phase 2 ticked "partially", and open again below
    "ranges.md": ["1", "2"],  # "Milestones 1-2 merged"
    "status_lines.md": ["1", "2"],  # "**Status:** Done", "Status: ✅ complete"
    "table_status.md": ["M1", "M2"],  # a milestone table with a Status column
    "task_ticked.md": ["1", "2", "3"],  # every task ticked, in words naming no milestone
    "template_stamps.md": [],  # "- [ ] (YYYY-MM-DD HH:MMZ) Milestone 1 — ..."
    "wrapped_items.md": ["1", "2", "3"],  # items wrapped over two lines; prose milestones
}


def test_every_corpus_plan_has_an_expectation() -> None:
    assert sorted(p.name for p in STANDING.glob("*.md")) == sorted(DONE)


@pytest.mark.parametrize("name", sorted(DONE))
def test_marks_follow_what_the_authors_wrote(name: str) -> None:
    text, plan = load_plan(STANDING / name)
    marks = plan_marks(text, plan)
    assert [m.milestone for m in marks] == [m.id for m in plan.milestones]
    assert [m.milestone for m in marks if m.done] == DONE[name]
    assert all(m.reason for m in marks)


@pytest.mark.parametrize(
    ("line", "labels", "numbers"),
    [
        ("Milestone 2 step 1: parser", {"2"}, {2}),
        ("Milestones 1-3 merged", {"1", "3"}, {1, 2, 3}),
        ("Milestones 1, 2 and 4", {"1", "2", "4"}, {1, 2, 4}),
        ("Milestone 1 — 2025-10-03 done", {"1"}, {1}),
        ("PR #3 merged", {"3"}, {3}),
        ("Milestone 10: tenth", {"10"}, {10}),
        ("Phase 2 to 4", {"2", "4"}, {2, 3, 4}),
    ],
)
def test_mentions(line: str, labels: set[str], numbers: set[int]) -> None:
    assert mentioned_labels(line) == (labels, numbers)


def _tick(name: str, milestone: str) -> tuple[str, str]:
    text, plan = load_plan(STANDING / name)
    after = record_milestone_progress(
        text,
        milestone=plan.milestone(milestone),
        summary="done by the run",
        when=WHEN,
        milestones=plan.milestones,
    )
    return text, after


def _changed(before: str, after: str) -> list[tuple[str, str]]:
    old, new = split_lines(before), split_lines(after)
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_ticking_keeps_the_persons_words_and_the_plans_prefix_stamp() -> None:
    text, after = _tick("dated_progress.md", "3")
    assert _changed(text, after) == [
        (
            "- [ ] Milestone 3: eviction when the cache passes its size limit.\n",
            "- [x] (2026-03-04 05:06Z) Milestone 3: eviction when the cache passes its size "
            "limit.\n",
        )
    ]


def test_ticking_writes_a_date_after_the_text_when_the_plan_does() -> None:
    text, after = _tick("milestone_ids.md", "M2")
    assert _changed(text, after) == [
        (
            "- [ ] M2 Parquet writer\n",
            "- [x] M2 Parquet writer — done 2026-03-04\n",
        )
    ]


def test_ticking_a_phase_ticks_only_its_open_item() -> None:
    text, after = _tick("phases_partial.md", "2")
    changed = _changed(text, after)
    assert len(changed) == 1
    assert changed[0][0] == "- [ ] Phase 2 remaining: snippet highlighting\n"
    assert changed[0][1].startswith("- [x] 2026-03-04 Phase 2 remaining: snippet highlighting")


def test_an_already_ticked_item_is_left_alone_and_nothing_is_added() -> None:
    text, after = _tick("fully_ticked.md", "3")
    assert after == text


def test_a_new_item_only_when_none_names_the_milestone() -> None:
    text, after = _tick("heading_marks.md", "4")
    plan = parse_plan(after, Path("p.md"))
    assert [p.text for p in plan.progress] == [
        "Milestone 4: Replay from the admin page — done by the run"
    ]
    assert plan.progress[0].timestamp == "2026-03-04 05:06Z"
    again = record_milestone_progress(
        after, milestone=plan.milestone("4"), summary="x", when=WHEN, milestones=plan.milestones
    )
    assert again == after


def test_a_title_match_never_takes_another_milestones_item() -> None:
    text = (
        "# P\n\n## Progress\n\n- [ ] Milestone 2: Parser and lexer work\n- [ ] Parser and lexer\n\n"
        "## Plan of Work\n\n### Milestone 1: Parser and lexer\n\nx\n\n"
        "### Milestone 2: Errors\n\ny\n"
    )
    plan = parse_plan(text, Path("p.md"))
    after = record_milestone_progress(
        text, milestone=plan.milestone("1"), summary="", when=WHEN, milestones=plan.milestones
    )
    assert "- [ ] Milestone 2: Parser and lexer work\n" in after
    assert "- [x] (2026-03-04 05:06Z) Parser and lexer\n" in after


def test_ticking_tasks_listed_under_a_milestone_label() -> None:
    text, after = _tick("nested_progress.md", "3")
    changed = _changed(text, after)
    assert [old for old, _ in changed] == [
        "- [ ] send through the mail queue\n",
        "- [ ] bounce handling\n",
    ]
    assert changed[0][1] == "- [x] (2026-03-04 05:06Z) send through the mail queue\n"
    assert changed[1][1] == "- [x] (2026-03-04 05:06Z) bounce handling\n"


def test_ticking_keeps_a_date_the_person_wrote_on_an_open_item() -> None:
    text, after = _tick("nested_progress.md", "2")
    assert _changed(text, after) == [
        (
            "- [ ] (2025-11-03 08:10Z) unsubscribe link\n",
            "- [x] (2025-11-03 08:10Z) unsubscribe link\n",
        )
    ]


def test_ticking_fills_the_time_slot_a_template_left() -> None:
    text, after = _tick("template_stamps.md", "2")
    assert _changed(text, after) == [
        (
            "- [ ] (YYYY-MM-DD HH:MMZ) Milestone 2 — init early, reload once settings are read.\n",
            "- [x] (2026-03-04 05:06Z) Milestone 2 — init early, reload once settings are read.\n",
        )
    ]


def test_ticking_a_wrapped_item_changes_its_first_line_only() -> None:
    text, after = _tick("wrapped_items.md", "4")
    assert _changed(text, after) == [
        (
            "- [ ] Milestone 4: migration report and documentation. The member-order test is "
            "done;\n",
            "- [x] (2026-03-04T05:06:00Z) Milestone 4: migration report and documentation. The "
            "member-order test is done;\n",
        )
    ]


def test_progress_speaks_first() -> None:
    text = (
        "# P\n\n## Progress\n\n- [ ] Milestone 2: errors\n\n## Plan of Work\n\n"
        "### Milestone 1: Parser\n\nStatus: done\n\n### Milestone 2: Errors\n\nStatus: done\n"
    )
    plan = parse_plan(text, Path("p.md"))
    marks = plan_marks(text, plan)
    assert [(m.milestone, m.done) for m in marks] == [("1", True), ("2", False)]
    assert marks[1].reason == "its Progress item on line 5 is open"
    assert marks[0].reason == "its status line says done (line 11)"


def test_a_list_milestone_ticks_its_own_box_and_keeps_its_identity() -> None:
    text, after = _tick("list_milestones.md", "C3")
    assert "\n- [ ] C3 — Nightly job and the alert to the API channel.\n" in text
    assert "\n- [x] C3 — Nightly job and the alert to the API channel.\n" in after
    plan = parse_plan(after, Path("p.md"))
    assert [m.id for m in plan.milestones] == ["C0", "C1", "C2", "C3"]
    assert [m.milestone for m in plan_marks(after, plan) if m.done] == ["C0", "C1", "C3"]
