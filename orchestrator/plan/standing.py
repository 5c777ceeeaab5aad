"""Where a plan stands: which milestones its own text marks done, and why.

A plan arrives part-done more often than not. We read what its authors wrote,
in this order, and the first that speaks for a milestone decides:

1. the Progress entries that name it (by number or id, else by title): done
   when none is open and at least one ticked entry does not say it is partial
   (Progress is the starting point: when it speaks, it decides);
2. the milestone's own checkbox, when it is written as a list item
   (``- [x] C0 — Scaffold``), else a status line in the milestone's own section (``Status: done``,
   ``**Status:** ✅ Complete``, ``Status: in progress``), else its row in a
   table with a status column (``| M1 | Schema | ✅ Done |``);
3. a done mark on the milestone's heading (``### Milestone 2: Parser ✅``);
4. the checkboxes in the milestone's own section, when there are some and
   all are ticked;
5. a Progress section whose every entry is ticked, with at least as many
   entries as the plan has milestones (a plan its authors ticked complete in
   words that name no milestone).

Anything else is open. Pure: text and parsed plan in, marks out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.plan.blocks import Blocks
from orchestrator.plan.document import PROGRESS_ITEM, outline
from orchestrator.plan.model import ExecPlan, Milestone
from orchestrator.plan.naming import matching_lines
from orchestrator.plan.progress import Entry, progress_entries
from orchestrator.plan.text import line_body

_STATUS = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?:status|stand|状态|狀態|状態|ステータス|상태)"
    r"(?:\*\*|__)?\s*[:：]\s*(?:\*\*|__)?\s*(?P<value>.+)$",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"\bnot\b|\bin[ -]progress|\bincomplete|\bpartial|\btodo\b|\bto do\b|\bpending|\bplanned"
    r"|\bblocked|\bopen\b|\bongoing|\bwip\b|\bstarted|\bremaining|\bdraft|\bproposed"
    r"|\bnicht\b|\boffen|未|進行中|进行中|진행|⏳|🚧|🟡|❌|⬜",
    re.IGNORECASE,
)
_DONE = re.compile(
    r"\bdone\b|\bcomplete[d]?\b|\bfinished\b|\bshipped\b|\bmerged\b|\blanded\b|\bimplemented\b"
    r"|\bdelivered\b|\berledigt|\bfertig|\babgeschlossen|完了|完成|済|완료|✅|✔|☑|🟢",
    re.IGNORECASE,
)
_HEADING_DONE = re.compile(
    r"(?:✅|✔️?|☑️?|[(\[](?:done|complete[d]?|finished|x)[)\]])\s*$", re.IGNORECASE
)
_PARTIAL = re.compile(
    r"\bpartial(?:ly)?\b|\bin[ -]progress\b|\bremaining\b|\bwip\b|\bblocked\b"
    r"|\bnot (?:yet )?(?:done|complete[d]?|finished)\b|\bincomplete\b",
    re.IGNORECASE,
)
_STATUS_HEADER = re.compile(r"^(?:status|state|stand|done|状态|狀態|状態|ステータス|상태)")
_BOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[(?P<mark>[ xX✓✔])\]")


@dataclass(frozen=True)
class Mark:
    """What the plan's text says about one milestone."""

    milestone: str
    done: bool
    reason: str = ""
    line: int | None = None


def _status_value(value: str) -> bool | None:
    value = value.strip().strip("*_` ")
    if _OPEN.search(value):
        return False
    if _DONE.search(value):
        return True
    return None


def _own_lines(text_lines: list[str], code: set[int], m: Milestone) -> list[tuple[int, str]]:
    return [
        (n, line_body(text_lines[n - 1]))
        for n in range(m.span.start + 1, m.span.end + 1)
        if n not in code
    ]


def _from_status(lines: list[tuple[int, str]], m: Milestone) -> Mark | None:
    for n, body in lines:
        found = _STATUS.match(body)
        if found is None:
            continue
        done = _status_value(found.group("value"))
        if done is not None:
            what = "done" if done else "open"
            return Mark(m.id, done, f"its status line says {what} (line {n})", n)
    return None


def _from_progress(entries: list[Entry], m: Milestone, plan: ExecPlan) -> Mark | None:
    texts = [(e.line, e.naming(plan.milestones)) for e in entries]
    named = set(matching_lines(texts, m, plan.milestones))
    if not named:
        return None
    chosen = [(e.line, e.text, e.checked) for e in entries if e.line in named]
    open_ = [n for n, _, ticked in chosen if not ticked]
    partial = [n for n, text, ticked in chosen if ticked and _PARTIAL.search(text)]
    if open_:
        return Mark(m.id, False, f"its Progress item on line {open_[0]} is open", open_[0])
    whole = [n for n, _, _ in chosen if n not in partial]
    if not whole:
        return Mark(m.id, False, f"its Progress item on line {partial[0]} says partial")
    first = whole[0]
    return Mark(m.id, True, f"ticked in Progress (line {first})", first)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _from_tables(blocks: Blocks, m: Milestone, plan: ExecPlan) -> Mark | None:
    """A row naming the milestone in a table with a status column (``| M1 | ... | Done |``)."""
    for table in blocks.tables:
        header = [h.strip().strip("*_").casefold() for h in table.header]
        column = next((i for i, h in enumerate(header) if _STATUS_HEADER.match(h)), None)
        if column is None:
            continue
        for n in range(table.start + 2, table.end + 1):
            cells = _cells(line_body(blocks.lines[n - 1]))
            if column >= len(cells):
                continue
            named = " | ".join(c for i, c in enumerate(cells) if i != column)
            first = cells[0].strip("*_` ").casefold()
            if first != m.id.casefold() and not matching_lines([(n, named)], m, plan.milestones):
                continue
            done = _status_value(cells[column])
            if done is not None:
                what = "done" if done else "open"
                return Mark(m.id, done, f"its table row on line {n} says {what}", n)
    return None


def _from_checkboxes(lines: list[tuple[int, str]], m: Milestone) -> Mark | None:
    boxes = [(n, found.group("mark") != " ") for n, body in lines if (found := _BOX.match(body))]
    if not boxes or not all(ticked for _, ticked in boxes):
        return None
    return Mark(m.id, True, f"all {len(boxes)} checkboxes in its section are ticked", boxes[0][0])


def plan_marks(text: str, plan: ExecPlan) -> list[Mark]:
    """One mark per milestone of ``plan`` (in order), read from ``text``."""
    blocks, _, sections = outline(text)
    entries = progress_entries(blocks, sections)
    code = set(blocks.code_lines)
    ticked = [e for e in entries if e.checked]
    all_ticked = len(ticked) == len(entries) and len(ticked) >= len(plan.milestones)
    marks: list[Mark] = []
    for m in plan.milestones:
        own = _own_lines(blocks.lines, code, m)
        mark = _from_progress(entries, m, plan)
        box = _BOX.match(line_body(blocks.lines[m.span.start - 1]))
        if mark is None and box is not None:  # a milestone written as a list item
            done = box.group("mark") != " "
            what = "ticked" if done else "open"
            mark = Mark(m.id, done, f"its own checkbox is {what} (line {m.span.start})")
        if mark is None:
            mark = _from_status(own, m)
        if mark is None:
            mark = _from_tables(blocks, m, plan)
        if mark is None and _HEADING_DONE.search(m.heading):
            mark = Mark(m.id, True, f"its heading is marked done (line {m.span.start})")
        if mark is None:
            own = [(n, body) for n, body in own if PROGRESS_ITEM.match(body) or _BOX.match(body)]
            mark = _from_checkboxes(own, m)
        if mark is None and all_ticked:
            mark = Mark(m.id, True, f"all {len(entries)} Progress items are ticked")
        marks.append(mark or Mark(m.id, False, "nothing in the plan marks it done"))
    return marks
