"""Parsing real-world plan styles: what is recognised, and byte-exact round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.errors import PlanError
from orchestrator.plan import load_plan, parse_plan, read_plan_text, write_plan_atomic
from orchestrator.plan.model import SectionKind
from orchestrator.plan.text import split_lines

CORPUS = Path(__file__).parent / "data" / "plans"
ALL_CORE = {
    SectionKind.PURPOSE,
    SectionKind.PROGRESS,
    SectionKind.SURPRISES,
    SectionKind.DECISIONS,
    SectionKind.OUTCOMES,
    SectionKind.CONTEXT,
    SectionKind.PLAN_OF_WORK,
    SectionKind.CONCRETE_STEPS,
    SectionKind.VALIDATION,
}

# file -> (milestone ids, titles, number of plan-level checks, sections that must be found)
EXPECTED: dict[str, tuple[list[str], list[str], int, set[SectionKind]]] = {
    "standard.md": (["1", "2"], ["Counting core", "Command-line entry point"], 1, ALL_CORE),
    "phases.md": (
        ["0", "1", "3"],
        ["Spike", "Dual-write producer", "Cut over consumers"],
        0,
        ALL_CORE,
    ),
    "milestones_section.md": (
        ["M0", "M1", "M2"],
        ["Baseline measurements", "Build into a versioned index", "Alias flip"],
        0,
        ALL_CORE | {SectionKind.MILESTONES},
    ),
    "top_level.md": (
        ["1", "2"],
        ["Read config with tomllib", "Delete the old parser"],
        0,
        ALL_CORE - {SectionKind.PLAN_OF_WORK},
    ),
    "chinese.md": (["1", "2"], ["轮转逻辑", "清理旧文件"], 1, ALL_CORE),
    "japanese.md": (["1", "2"], ["BOM 付き UTF-8 で出力", "回帰テスト"], 1, ALL_CORE),
    "german_crlf_bom.md": (["1", "2"], ["Vorlage", "Download-Endpunkt"], 1, ALL_CORE),
    "front_matter.md": (
        ["0", "2", "5"],
        ["Reproduce the OOM", "Stream to object storage", "Remove the buffer setting"],
        0,
        ALL_CORE,
    ),
    "no_milestones.md": (["1"], ["Fix flaky `test_session_expiry`"], 0, ALL_CORE),
    "bare_metadata.md": (["1", "2"], ["Schema mapping", "Nightly job"], 1, ALL_CORE),
    "prose_milestones.md": (
        ["1", "2", "3"],
        [
            "introduces `gallery/thumbcache.py`",
            "updates `gallery/views.py` so every thumbnail request goes through the cache",
            "removes the old inline resizing helper and its tests once the cache has served "
            "a full day of traffic",
        ],
        0,
        ALL_CORE,
    ),
    "bold_paragraph_milestones.md": (
        ["1", "2", "3"],
        [
            "Collectors for alerts and deploys (1 week)",
            "Chat collector (1 week)",
            "Markdown renderer and CLI (3 days)",
        ],
        0,
        {SectionKind.PLAN_OF_WORK},
    ),
    "numbered_in_milestones.md": (
        ["1", "2", "2.5", "3"],
        ["Analyzer definition", "Shadow index", "Synonym list cleanup", "Alias switch"],
        0,
        {SectionKind.PURPOSE, SectionKind.MILESTONES},
    ),
    "nested_living.md": (
        ["1"],
        ["Goal 3 — Make the export plugins discoverable"],
        0,
        {
            SectionKind.VALIDATION,
            SectionKind.PROGRESS,
            SectionKind.SURPRISES,
            SectionKind.DECISIONS,
            SectionKind.OUTCOMES,
        },
    ),
    "traditional_chinese.md": (
        ["1", "2"],
        ["排程資料模型", "寄送工作"],
        0,
        {
            SectionKind.PURPOSE,
            SectionKind.PROGRESS,
            SectionKind.VALIDATION,
            SectionKind.DECISIONS,
            SectionKind.MILESTONES,
        },
    ),
    "mixed_levels.md": (
        ["0", "M1", "M2", "M3"],
        ["Test harness (needed by everything)", "Board and pieces", "Turn order", "Win condition"],
        0,
        {SectionKind.CONCRETE_STEPS},
    ),
}


def test_corpus_is_fully_covered() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.md")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_recognition(name: str) -> None:
    ids, titles, n_plan_checks, kinds = EXPECTED[name]
    _, plan = load_plan(CORPUS / name)
    assert [m.id for m in plan.milestones] == ids
    assert [m.title for m in plan.milestones] == titles
    assert len(plan.checks) == n_plan_checks
    found = {s.kind for s in plan.sections if s.kind is not None}
    assert kinds <= found, kinds - found
    assert any(n.startswith("milestones:") for n in plan.recognised)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_round_trips_byte_exactly(name: str, tmp_path: Path) -> None:
    source = CORPUS / name
    text = read_plan_text(source)
    parse_plan(text, source)
    copy = tmp_path / name
    write_plan_atomic(copy, text)
    assert copy.read_bytes() == source.read_bytes()


def test_crlf_and_bom_are_kept_and_lines_agree() -> None:
    path = CORPUS / "german_crlf_bom.md"
    text = read_plan_text(path)
    assert text.startswith("\ufeff# ")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    _, plan = load_plan(path)
    lines = text.split("\r\n")
    for m in plan.milestones:
        assert lines[m.span.start - 1].endswith(m.heading)
        for c in m.checks:
            assert lines[c.line - 1] == c.command


def test_hash_lines_in_fences_are_not_headings() -> None:
    _, plan = load_plan(CORPUS / "front_matter.md")
    headings = [s.heading for s in plan.sections]
    assert "Runbook: media pod restarts" not in headings
    assert "Symptoms" not in headings
    assert plan.title == "Streaming uploads for the media service"
    stream = plan.milestone("2")
    assert [c.command for c in stream.checks] == ["python -m pytest -q tests/test_stream.py"]
    assert any(n.startswith("front matter") for n in plan.recognised)


def test_restated_milestones_are_not_counted_twice() -> None:
    _, plan = load_plan(CORPUS / "milestones_section.md")
    assert len(plan.milestones) == 3  # "### M1 update" under Surprises is a restatement
    _, phases = load_plan(CORPUS / "phases.md")
    assert all(m.heading.startswith("Phase") for m in phases.milestones)  # not "Step 1"


def test_progress_items() -> None:
    _, plan = load_plan(CORPUS / "phases.md")
    first, second, _ = plan.progress
    assert first.checked
    assert first.timestamp == "2025-05-01 09:12Z"
    assert first.text == "Phase 0: spike consumer groups locally"
    assert not second.checked
    assert second.timestamp is None
    text = read_plan_text(CORPUS / "phases.md")
    assert text.splitlines()[first.line - 1].startswith("- [x]")


CHECKS_PLAN = """# T

## Purpose

Goal.

## Plan of Work

### Milestone 1: One

```bash {validate}
# a comment

$ make build
pytest -q \\
  tests/a.py \\
  tests/b.py
```

```python
print("not a check")
```

## Validation and Acceptance

``` validate
ruff check .
```
"""


def test_validate_blocks_parse_commands() -> None:
    plan = parse_plan(CHECKS_PLAN, Path("p.md"))
    m = plan.milestone("1")
    assert [(c.id, c.command, c.line) for c in m.checks] == [
        ("1.1", "make build", 14),
        ("1.2", "pytest -q tests/a.py tests/b.py", 15),
    ]
    assert [(c.id, c.command, c.milestone) for c in plan.checks] == [
        ("plan.1", "ruff check .", None)
    ]
    assert [c.id for c in plan.checks_for("1")] == ["1.1", "1.2", "plan.1"]


@pytest.mark.parametrize(
    ("heading", "ident", "title"),
    [
        ("Milestone 3: Build it", "3", "Build it"),
        ("Milestone 3 - Build it", "3", "Build it"),
        ("Milestone 3 — Build it", "3", "Build it"),
        ("Milestone 3. Build it", "3", "Build it"),
        ("Milestone 3：Build it", "3", "Build it"),
        ("**Milestone 3**: Build it", "3", "Build it"),
        ("M7: Build it", "M7", "Build it"),
        ("Milestone 0 – Build it", "0", "Build it"),
    ],
)
def test_milestone_heading_variants(heading: str, ident: str, title: str) -> None:
    text = f"# P\n\n## Purpose\n\nx\n\n## Plan of Work\n\n### {heading}\n\nbody\n"
    plan = parse_plan(text, Path("p.md"))
    assert [(m.id, m.title) for m in plan.milestones] == [(ident, title)]
    assert plan.milestones[0].body == "body\n"


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Purpose / Big Picture", SectionKind.PURPOSE),
        ("1. Purpose", SectionKind.PURPOSE),
        ("Objective", SectionKind.PURPOSE),
        ("Surprises and discoveries", SectionKind.SURPRISES),
        ("Decisions", SectionKind.DECISIONS),
        ("Outcomes & Retrospective", SectionKind.OUTCOMES),
        ("Purpose / 목적", SectionKind.PURPOSE),
        ("Validation & Acceptance", SectionKind.VALIDATION),
        ("Interfaces and Dependencies", SectionKind.INTERFACES),
    ],
)
def test_section_name_variants(heading: str, kind: SectionKind) -> None:
    plan = parse_plan(f"# P\n\n## {heading}\n\ntext\n", Path("p.md"))
    section = plan.section(kind)
    assert section is not None
    assert section.heading == heading
    assert section.span.start == 3
    assert section.span.end == 5


def test_text_that_is_not_a_plan_raises() -> None:
    with pytest.raises(PlanError, match=r"notes\.md does not look like an ExecPlan"):
        parse_plan("# Shopping\n\n- milk\n- eggs\n", Path("notes.md"))
    with pytest.raises(PlanError, match="does not look like an ExecPlan"):
        parse_plan("just a line of prose\n", Path("notes.md"))


_MARKDOWNISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "# T",
                "## Purpose",
                "## Progress",
                "### Milestone 1: A",
                "### Milestone: B",
                "## Milestone 2 — C",
                "### Phase 0 - D",
                "```sh validate",
                "````",
                "```",
                "~~~",
                "- [ ] Milestone 1",
                "- [x] (2025-01-01 00:00Z) done",
                "    indented",
                "| a | b |",
                "|---|---|",
                "---",
                "key: value",
                "",
                "\ufeff",
                "\\",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(_MARKDOWNISH, st.sampled_from(["\n", "\r\n", "\r"]))
def test_parse_never_fails_except_with_plan_error(lines: list[str], nl: str) -> None:
    text = nl.join(lines)
    try:
        plan = parse_plan(text, Path("p.md"))
    except PlanError as exc:
        message = exc.message
        plan = None
    if plan is None:
        assert "p.md" in message
        return
    n_lines = len(split_lines(text))
    for m in plan.milestones:
        assert 1 <= m.span.start <= m.span.end <= max(n_lines, 1)
        assert all(1 < c.line <= n_lines for c in m.checks)
    assert len({c.id for c in plan.checks}) == len(plan.checks)


@settings(max_examples=200, deadline=None)
@given(_MARKDOWNISH, st.sampled_from(["\n", "\r\n"]))
def test_edits_never_crash_and_recording_is_idempotent(lines: list[str], nl: str) -> None:
    from datetime import UTC, datetime

    from orchestrator.plan import append_decision, record_milestone_progress, write_outcomes

    when = datetime(2026, 1, 1, tzinfo=UTC)
    text = nl.join(lines)
    try:
        plan = parse_plan(text, Path("p.md"))
    except PlanError:
        return
    for m in plan.milestones:
        once = record_milestone_progress(text, milestone=m, summary="s", when=when)
        assert record_milestone_progress(once, milestone=m, summary="s", when=when) == once
        text = once
    text = append_decision(text, decision="d", rationale="r", when=when)
    assert write_outcomes(text, body="b", when=when).count("updated 2026-01-01 00:00Z:") == 1
