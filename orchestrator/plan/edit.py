"""Surgical edits of a plan's living sections: pure functions from text to text.

Each edit inserts whole lines and leaves every other byte as it was: what
people wrote is never removed. The one exception is the template's own
placeholder (``None yet.``, ``Not started.``): when it is the only thing in a
living section, the first entry replaces it. New lines use the file's newline
style; a BOM stays where it is. A missing living section is created at its
canonical place. ``when`` must be an aware datetime; it is written in UTC as
``2026-11-21 14:03Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from orchestrator.plan.blocks import Blocks, Fence
from orchestrator.plan.document import outline
from orchestrator.plan.model import Section, SectionKind
from orchestrator.plan.sections import CANONICAL_HEADING, CANONICAL_ORDER
from orchestrator.plan.text import BOM, line_body, newline_of, split_lines
from orchestrator.ui.text import one_line


def _flat(text: str) -> str:
    return one_line(text, newline=" ")


TEMPLATE_PLACEHOLDERS = frozenset({"None yet.", "Not started."})
"""The template's placeholder lines, exactly: the only text an edit may replace."""
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def stamp(when: datetime) -> str:
    """``2026-11-21 14:03Z`` for an aware datetime."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("when must be a timezone-aware datetime")
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _insert(text: str, after: int, new: list[str]) -> str:
    """Insert line bodies ``new`` after line ``after`` (0 = at the top)."""
    nl = newline_of(text)
    lines = split_lines(text)
    if after > 0 and not lines[after - 1].endswith(("\n", "\r")):
        lines[after - 1] += nl
    lines[after:after] = [x + nl for x in new]
    return "".join(lines)


def _find(sections: list[Section], kind: SectionKind) -> Section | None:
    return next((s for s in sections if s.kind is kind), None)


def _ensure(text: str, kind: SectionKind) -> str:
    """The text with a ``kind`` section, created at its canonical place if missing."""
    blocks, level, sections = outline(text)
    if _find(sections, kind) is not None:
        return text
    heading = f"{'#' * level} {CANONICAL_HEADING[kind]}"
    rank = CANONICAL_ORDER.index(kind)
    later = [s for s in sections if s.kind is not None and CANONICAL_ORDER.index(s.kind) > rank]
    if later:
        return _insert(text, _top_start(blocks, level, later[0]), [heading, ""])
    last = blocks.last_line
    new = [heading]
    if last and line_body(blocks.lines[-1]).strip(BOM + " \t"):
        new.insert(0, "")
    unclosed = _unclosed_fence(blocks)
    if unclosed is not None:
        new.insert(0, unclosed.markup)
    return _insert(text, last, new)


def _top_start(blocks: Blocks, level: int, sec: Section) -> int:
    """The line before ``sec``, or before its wrapper when it sits below the section level."""
    start = sec.span.start
    for h in blocks.headings:
        if h.line >= sec.span.start:
            break
        if h.level <= level:
            start = h.line if sec.level > level else sec.span.start
    return start - 1


def _unclosed_fence(blocks: Blocks) -> Fence | None:
    """A top-level fenced code block left open at the end of the document.

    A fence opened inside a list item or block quote ends with its
    container, which any unindented line we insert closes; it needs no marker.
    """
    for f in blocks.fences:
        opening = line_body(blocks.lines[f.start - 1]).lstrip(BOM)
        if not opening.lstrip(" ").startswith(f.markup) or opening.startswith(" " * 4):
            continue
        end = min(f.end, blocks.last_line)
        closing = line_body(blocks.lines[end - 1]).strip()
        char = f.markup[0]
        closed = closing.startswith(f.markup) and closing == char * len(closing)
        if f.start == end or not closed:
            return f
    return None


def _content_end(blocks: Blocks, sec: Section) -> int:
    end = sec.span.end
    while end > sec.span.start and not line_body(blocks.lines[end - 1]).strip():
        end -= 1
    return end


def _in_list(blocks: Blocks, line: int, stop: int) -> bool:
    """Whether ``line`` belongs to a list item (itself or its indented continuation)."""
    while line > stop:
        body = line_body(blocks.lines[line - 1])
        if _LIST_ITEM.match(body):
            return line not in blocks.code_lines
        if not body[:1].isspace():
            return False
        line -= 1
    return False


def placeholder_line(blocks: Blocks, sec: Section) -> int | None:
    """The line of the template's placeholder when it is all the section holds."""
    filled = [
        n
        for n in range(sec.span.start + 1, sec.span.end + 1)
        if line_body(blocks.lines[n - 1]).strip()
    ]
    if len(filled) != 1:
        return None
    body = line_body(blocks.lines[filled[0] - 1]).lstrip(BOM).strip()
    return filled[0] if body in TEMPLATE_PLACEHOLDERS else None


def _replace_line(text: str, line: int, new: list[str]) -> str:
    """Replace line ``line`` (the template's placeholder) with ``new`` lines."""
    nl = newline_of(text)
    lines = split_lines(text)
    ending = lines[line - 1][len(line_body(lines[line - 1])) :] or nl
    lines[line - 1 : line] = [x + nl for x in new[:-1]] + [new[-1] + ending]
    return "".join(lines)


def _append_item(text: str, kind: SectionKind, item: list[str], *, apart: bool = False) -> str:
    """Append ``item`` (line bodies) at the end of the ``kind`` section.

    It continues a list the section ends with, unless ``apart`` asks for a blank line.
    """
    text = _ensure(text, kind)
    blocks, _, sections = outline(text)
    sec = _find(sections, kind)
    assert sec is not None
    placeholder = placeholder_line(blocks, sec)
    if placeholder is not None:
        return _replace_line(text, placeholder, [x for i, x in enumerate(item) if x or i])
    end = _content_end(blocks, sec)
    new = (
        list(item)
        if not apart and end > sec.span.start and _in_list(blocks, end, sec.span.start)
        else ["", *item]
    )
    unclosed = _unclosed_fence(blocks)
    if unclosed is not None and unclosed.start <= end:
        new = [unclosed.markup, "", *item]
    if end < blocks.last_line and line_body(blocks.lines[end]).strip():
        new.append("")
    return _insert(text, end, new)


def add_progress_item(text: str, *, item: str, checked: bool, when: datetime | None) -> str:
    """Append ``- [x] (when) item`` (or ``- [ ] item``) to Progress."""
    mark = "x" if checked else " "
    ts = f"({stamp(when)}) " if when is not None else ""
    return _append_item(text, SectionKind.PROGRESS, [f"- [{mark}] {ts}{_flat(item)}"])


def append_discovery(text: str, *, observation: str, evidence: str, when: datetime) -> str:
    """Append an observation (and its evidence) to Surprises & Discoveries."""
    item = [f"- ({stamp(when)}) Observation: {_flat(observation)}"]
    if evidence.strip():
        item.append(f"  Evidence: {_flat(evidence)}")
    return _append_item(text, SectionKind.SURPRISES, item)


def _cell(text: str) -> str:
    return _flat(text).replace("|", "\\|")


def _row(header: list[str], values: dict[str, str]) -> str:
    cells: list[str] = []
    rest = [values["when"], values["decision"], values["rationale"]]
    for name in header:
        low = name.casefold()
        if any(k in low for k in ("date", "when", "time", "日期", "日付")):
            cells.append(values["when"])
        elif any(k in low for k in ("rationale", "reason", "why", "理由", "begründung")):
            cells.append(values["rationale"])
        elif any(k in low for k in ("decision", "what", "决策", "決定", "entscheidung")):
            cells.append(values["decision"])
        else:
            cells.append("")
    if not any(cells):
        cells = (rest + [""] * len(header))[: max(len(header), 1)]
    return "| " + " | ".join(cells) + " |"


def append_decision(text: str, *, decision: str, rationale: str, when: datetime) -> str:
    """Append a decision to the Decision Log: a table row if it holds a table, else an item."""
    text = _ensure(text, SectionKind.DECISIONS)
    blocks, _, sections = outline(text)
    sec = _find(sections, SectionKind.DECISIONS)
    assert sec is not None
    tables = [t for t in blocks.tables if sec.span.start < t.start <= sec.span.end]
    if tables:
        values = {"when": stamp(when), "decision": _cell(decision), "rationale": _cell(rationale)}
        return _insert(text, tables[-1].end, [_row(tables[-1].header, values)])
    item = [f"- ({stamp(when)}) Decision: {_flat(decision)}"]
    if rationale.strip():
        item.append(f"  Rationale: {_flat(rationale)}")
    return _append_item(text, SectionKind.DECISIONS, item)


OUTCOMES_OPEN = "<!-- orchestrator:outcomes -->"
OUTCOMES_CLOSE = "<!-- /orchestrator:outcomes -->"
_HEADING_LIKE = re.compile(r"^( {0,3})(#{1,6}(?:\s|$))")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _escape_headings(body: str) -> list[str]:
    out: list[str] = []
    fenced = False
    for line in body.strip("\n").splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        out.append(line if fenced else _HEADING_LIKE.sub(r"\1\\\2", line))
    return out


def _own_block(blocks: Blocks) -> tuple[int, int] | None:
    """The lines of the orchestrator's Outcomes block (its two markers), if the plan has one."""
    found: tuple[int, int] | None = None
    start: int | None = None
    for n, raw in enumerate(blocks.lines, start=1):
        body = line_body(raw).strip()
        if n in blocks.code_lines:
            continue
        if body == OUTCOMES_OPEN:
            start = n
        elif body == OUTCOMES_CLOSE and start is not None:
            found, start = (start, n), None
    return found


def write_outcomes(text: str, *, body: str, when: datetime) -> str:
    """Write the orchestrator's dated block in Outcomes & Retrospective.

    The block sits between two HTML comments (invisible when rendered) so a later
    run finds it and updates it in place; what people wrote there stays. The
    first block is appended at the end of the section (replacing the template's
    placeholder when that is all the section holds).
    """
    block = [
        OUTCOMES_OPEN,
        f"Orchestrator, updated {stamp(when)}:",
        "",
        *_escape_headings(body),
        "",
        OUTCOMES_CLOSE,
    ]
    blocks, _, _ = outline(text)
    own = _own_block(blocks)
    if own is None:
        return _append_item(text, SectionKind.OUTCOMES, block, apart=True)
    nl = newline_of(text)
    lines = split_lines(text)
    ending = lines[own[1] - 1][len(line_body(lines[own[1] - 1])) :]
    lines[own[0] - 1 : own[1]] = [x + nl for x in block[:-1]] + [block[-1] + ending]
    return "".join(lines)
