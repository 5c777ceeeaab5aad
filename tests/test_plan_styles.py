"""Plan styles seen in real ExecPlans: where milestones and sections hide, and edits there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from orchestrator.plan import (
    append_decision,
    append_discovery,
    load_plan,
    parse_plan,
    record_milestone_progress,
    write_outcomes,
)
from orchestrator.plan.milestones import match_heading
from orchestrator.plan.model import ExecPlan, SectionKind
from orchestrator.plan.text import split_lines

CORPUS = Path(__file__).parent / "data" / "plans"
WHEN = datetime(2026, 2, 3, 4, 5, tzinfo=UTC)


def _lines(text: str) -> list[str]:
    return [x.rstrip("\r\n") for x in split_lines(text)]


def _kept(before: str, after: str) -> bool:
    """Every line of ``before`` is still in ``after``, in order (only insertions)."""
    rest = iter(_lines(after))
    return all(any(line == other for other in rest) for line in _lines(before))


def _section_lines(text: str, plan: ExecPlan, kind: SectionKind) -> list[str]:
    sec = plan.section(kind)
    assert sec is not None
    return _lines(text)[sec.span.start - 1 : sec.span.end]


def test_prose_milestones_are_paragraphs_in_plan_of_work() -> None:
    text, plan = load_plan(CORPUS / "prose_milestones.md")
    first, second, third = plan.milestones
    lines = _lines(text)
    assert lines[first.span.start - 1].startswith("Milestone 1 introduces")
    assert first.body.startswith("Milestone 1 introduces `gallery/thumbcache.py`.")
    assert first.span.end < second.span.start
    assert third.body.rstrip().endswith("served a full day of traffic.")
    assert lines[third.span.end] == "## Concrete Steps"
    assert [c.command for c in first.checks] == ["python -m pytest -q tests/test_thumbcache.py"]
    assert [c.command for c in second.checks] == ["python -m pytest -q tests/test_views.py"]
    assert third.checks == []
    # "Milestone 1 verification: ..." under Validation restates, it is not a fourth milestone
    assert len(plan.milestones) == 3


def test_prose_milestone_progress_is_ticked() -> None:
    text, plan = load_plan(CORPUS / "prose_milestones.md")
    after = record_milestone_progress(text, milestone=plan.milestone("2"), summary="ok", when=WHEN)
    ticked = [x for x in _lines(after) if x.startswith("- [x]")]
    assert ticked == [
        "- [x] (2026-02-03 04:05Z) Milestone 2 — gallery view reads through the cache."
    ]
    assert len(_lines(after)) == len(_lines(text))


def test_a_restating_heading_is_not_a_prose_milestone() -> None:
    assert match_heading("Milestone 2 updates") is None
    assert match_heading("Milestone 2 updates the docs", prose=True) == (
        "milestone",
        "2",
        "updates the docs",
    )


def test_bold_paragraph_milestones_own_their_checks() -> None:
    _, plan = load_plan(CORPUS / "bold_paragraph_milestones.md")
    assert [m.heading for m in plan.milestones][
        0
    ] == "**Milestone 1: Collectors for alerts and deploys (1 week)**"
    assert [(m.id, [c.command for c in m.checks]) for m in plan.milestones] == [
        ("1", []),
        ("2", ["make test-collectors"]),
        ("3", []),
    ]
    assert plan.milestone("1").body.startswith("**Milestone 1:")
    assert "Alert collector" in plan.milestone("1").body
    assert "Chat collector" not in plan.milestone("1").body


def test_a_single_prose_mention_is_not_a_milestone_list() -> None:
    text = (
        "# P\n\n## Purpose\n\nx\n\n## Plan of Work\n\n"
        "Milestone 1 is the only step: rename the flag.\n"
    )
    plan = parse_plan(text, Path("p.md"))
    assert [m.title for m in plan.milestones] == ["P"]
    assert any("none found" in n for n in plan.recognised)


def test_numbered_headings_under_milestones_section() -> None:
    _, plan = load_plan(CORPUS / "numbered_in_milestones.md")
    assert [(m.id, m.number) for m in plan.milestones] == [
        ("1", 1),
        ("2", 2),
        ("2.5", 2),
        ("3", 3),
    ]
    assert [c.id for c in plan.milestone("1").checks] == ["1.1"]


def test_numbered_headings_elsewhere_are_not_milestones() -> None:
    text = "# P\n\n## Purpose\n\nx\n\n## Plan of Work\n\n### 1. Build\n\n### 2. Ship\n"
    plan = parse_plan(text, Path("p.md"))
    assert len(plan.milestones) == 1
    assert plan.milestones[0].title == "P"


def test_living_sections_nested_in_a_wrapper() -> None:
    text, plan = load_plan(CORPUS / "nested_living.md")
    progress = plan.section(SectionKind.PROGRESS)
    assert progress is not None
    assert progress.level == 3
    validation = plan.section(SectionKind.VALIDATION)
    assert validation is not None
    assert validation.level == 2
    assert len(plan.progress) == 2
    after = append_discovery(text, observation="plugins load lazily", evidence="trace", when=WHEN)
    assert _kept(text, after)
    assert "## Surprises" not in after.replace("### Surprises", "")
    new_plan = parse_plan(after, plan.path)
    surprises = _section_lines(after, new_plan, SectionKind.SURPRISES)
    assert "- (2026-02-03 04:05Z) Observation: plugins load lazily" in surprises


def test_outcomes_nested_in_a_wrapper_keep_what_people_wrote() -> None:
    text, plan = load_plan(CORPUS / "nested_living.md")
    after = write_outcomes(text, body="Registry shipped.", when=WHEN)
    assert _kept(text, after)
    assert "#### Delivered" in after
    assert "Registry shipped." in after
    assert after.endswith("## Report format\n\n```text\nGoal: G3\nResult: PASS | FAIL\n```\n")
    assert after.count("Outcomes & Retrospective") == 1


def test_traditional_chinese_headings_and_adr_section() -> None:
    text, plan = load_plan(CORPUS / "traditional_chinese.md")
    decisions = plan.section(SectionKind.DECISIONS)
    assert decisions is not None
    assert decisions.heading == "ADR（架構決策紀錄）"
    validation = plan.section(SectionKind.VALIDATION)
    assert validation is not None
    assert validation.heading == "驗收條件"
    after = append_decision(text, decision="retry with backoff", rationale="mail API", when=WHEN)
    assert _kept(text, after)
    lines = _section_lines(after, parse_plan(after, plan.path), SectionKind.DECISIONS)
    assert "- (2026-02-03 04:05Z) Decision: retry with backoff" in lines


def test_a_missing_section_is_created_outside_a_wrapper() -> None:
    text, plan = load_plan(CORPUS / "traditional_chinese.md")
    after = write_outcomes(text, body="done", when=WHEN)
    assert _kept(text, after)
    lines = _lines(after)
    assert lines.index("## Outcomes & Retrospective") < lines.index("## 使用者故事")
    again = parse_plan(after, plan.path)
    validation = again.section(SectionKind.VALIDATION)
    assert validation is not None
    assert validation.heading == "驗收條件"
    assert [m.id for m in again.milestones] == ["1", "2"]


def test_milestones_at_two_levels_are_joined() -> None:
    _, plan = load_plan(CORPUS / "mixed_levels.md")
    assert [m.id for m in plan.milestones] == ["0", "M1", "M2", "M3"]
    assert [c.command for c in plan.milestone("0").checks] == ["./tools/run_tests.sh"]
    assert [c.command for c in plan.milestone("M2").checks] == ["./tools/run_tests.sh turn"]
    assert not any("Track" in m.heading for m in plan.milestones)
    assert any("more at other levels" in n for n in plan.recognised)


def test_restated_groups_are_not_joined() -> None:
    text = (
        "# P\n\n## Purpose\n\nx\n\n## Plan of Work\n\n### Milestone 1: A\n\n### Milestone 2: B\n\n"
        "## Concrete Steps\n\n### Milestone 3 commands\n\n## Notes\n\n### Milestone 2 retro\n"
    )
    plan = parse_plan(text, Path("p.md"))
    assert [m.id for m in plan.milestones] == ["1", "2"]
