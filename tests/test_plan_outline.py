"""The outline of a plan: block structure only, and cached without being shared."""

from __future__ import annotations

from pathlib import Path

from orchestrator.plan import parse_plan
from orchestrator.plan.blocks import scan
from orchestrator.plan.document import outline
from orchestrator.plan.model import SectionKind

PLAN = """# Demo

## **Progress** `now`

- [ ] Milestone 1: *first* [link](x.md)

| Decision | Why |
| -------- | --- |
| a *b* | `c` |

## Plan of Work

### Milestone 1: *first* [link](x.md)

Text with `code` and **bold**.
"""


def test_headings_and_table_cells_keep_their_inline_markup_as_written() -> None:
    blocks = scan(PLAN)
    assert [h.text for h in blocks.headings] == [
        "Demo",
        "**Progress** `now`",
        "Plan of Work",
        "Milestone 1: *first* [link](x.md)",
    ]
    assert blocks.tables[0].header == ["Decision", "Why"]
    plan = parse_plan(PLAN, Path("demo.md"))
    assert plan.milestones[0].heading == "Milestone 1: *first* [link](x.md)"
    assert [s.kind for s in plan.sections if s.kind] == [
        SectionKind.PROGRESS,
        SectionKind.PLAN_OF_WORK,
    ]


def test_an_outline_is_the_callers_own_list() -> None:
    _, _, sections = outline(PLAN)
    sections.clear()
    blocks, level, again = outline(PLAN)
    assert level == 2
    assert [s.heading for s in again] == [h.text for h in blocks.headings]
