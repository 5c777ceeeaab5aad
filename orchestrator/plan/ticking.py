"""Ticking a passed milestone in Progress, in the plan's own style.

The item that names the milestone (by number or id first, then by title; an
item nested under one that names it, or listed under a heading or label naming
it inside Progress, names it too) is ticked in place: ``[ ]`` becomes ``[x]``,
a timestamp is added where the plan puts its timestamps, and the person's
words stay exactly as they were (the step's summary goes into the commit and
the Outcomes block, not into their line). An item that is already ticked is
left alone. Only when no item names the milestone is a new one appended, with
the summary. Calling it twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestrator.plan.document import PROGRESS_ITEM, outline
from orchestrator.plan.edit import add_progress_item, stamp
from orchestrator.plan.model import Milestone, SectionKind
from orchestrator.plan.naming import matching_lines
from orchestrator.plan.progress import progress_entries
from orchestrator.plan.text import line_body, split_lines

_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?:\s*(?:Z|UTC))?"
TIME_SLOT = re.compile(r"^(?P<open>[(\[])YYYY-MM-DD[^)\]]*(?P<close>[)\]])\s*")
"""A timestamp slot left from a template, ``(YYYY-MM-DD HH:MMZ)``: the person's place for it."""
_BARE = re.compile(rf"^(?P<ts>{_DATE})\s*[:—–-]?\s")
_SUFFIX = re.compile(
    rf"(?P<lead>\s+(?:[-—–]\s+)?)(?P<open>[(\[])?(?P<word>(?:done|completed?|finished)"
    rf"\s*:?\s+)?(?P<ts>{_DATE})(?P<close>[)\]])?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Style:
    """Where and how the plan writes a ticked item's timestamp."""

    prefix: bool = True
    open: str = "("
    close: str = ")"
    word: str = ""
    lead: str = " "
    clock: str = "%Y-%m-%d %H:%MZ"

    def render(self, when: datetime) -> str:
        ts = when.astimezone(UTC).strftime(self.clock)
        return f"{self.open}{self.word}{ts}{self.close}"


def _clock(ts: str) -> str:
    ts = ts.strip()
    if len(ts) == 10:
        return "%Y-%m-%d"
    sep = "T" if "T" in ts else " "
    secs = ":%S" if re.search(r"\d{2}:\d{2}:\d{2}", ts) else ""
    zone = "Z" if ts.endswith("Z") else (" UTC" if ts.endswith("UTC") else "")
    if zone == "Z" and re.search(r"\d\s+Z$", ts):
        zone = " Z"
    return f"%Y-%m-%d{sep}%H:%M{secs}{zone}"


def plan_style(bodies: Sequence[str]) -> Style:
    """The timestamp style of the plan's ticked Progress items (the template's if none)."""
    for body in bodies:
        m = PROGRESS_ITEM.match(body)
        if m is None or m.group("mark") == " ":
            continue
        if m.group("ts"):
            opening = m.group("open")
            return Style(
                prefix=True,
                open=opening,
                close=")" if opening == "(" else "]",
                clock=_clock(m.group("ts")),
            )
        bare = _BARE.match(m.group("text"))
        if bare is not None:
            return Style(prefix=True, open="", close="", clock=_clock(bare.group("ts")))
        s = _SUFFIX.search(m.group("text"))
        if s is not None:
            return Style(
                prefix=False,
                open=s.group("open") or "",
                close=s.group("close") or "",
                word=s.group("word") or "",
                lead=s.group("lead"),
                clock=_clock(s.group("ts")),
            )
    return Style()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _ticked(body: str, style: Style, when: datetime) -> str:
    m = PROGRESS_ITEM.match(body)
    assert m is not None
    words = m.group("text").rstrip()
    head = f"{m.group('indent')}{m.group('bullet')} [x]{m.group('sep') or ' '}"
    if m.group("ts"):  # a date the person wrote before ticking: keep it as it was
        stamped = body[m.start("open") : m.start("text")]
        return f"{head}{stamped}{words}"
    slot = TIME_SLOT.match(words)
    if slot is not None:  # fill the slot the template left for the time
        filled = Style(open=slot.group("open"), close=slot.group("close")).render(when)
        return f"{head}{filled} {words[slot.end() :]}"
    if style.prefix:
        return f"{head}{style.render(when)} {words}"
    return f"{head}{words}{style.lead}{style.render(when)}"


def _tick_own_box(text: str, milestone: Milestone) -> str:
    """Tick the milestone's own checkbox when it is written as a list item (``- [ ] C2 — X``).

    Found by its words, not its line number: the plan may have grown above it. Only
    the box changes (the item's words are the milestone's heading, which must stay);
    the time goes into Progress.
    """
    blocks, _, sections = outline(text)
    listed = [s.span for s in sections if s.kind is SectionKind.MILESTONES]
    for n, raw in enumerate(blocks.lines, start=1):
        body = line_body(raw)
        m = PROGRESS_ITEM.match(body)
        if m is None or n in blocks.code_lines or m.group("mark") != " ":
            continue
        if not any(span.start < n <= span.end for span in listed):
            continue
        if body.split("]", 1)[1].strip() == milestone.heading.strip():
            lines = split_lines(text)
            start = m.start("mark")
            lines[n - 1] = body[:start] + "x" + body[start + 1 :] + raw[len(body) :]
            return "".join(lines)
    return text


def record_milestone_progress(
    text: str,
    *,
    milestone: Milestone,
    summary: str,
    when: datetime,
    milestones: Sequence[Milestone] = (),
) -> str:
    """Tick the Progress item(s) naming ``milestone``, or add one when none does. Idempotent.

    ``milestones`` are all of the plan's milestones: an item naming another one by
    number or id is never taken for this one by its title.
    """
    stamp(when)  # refuses a naive datetime
    text = _tick_own_box(text, milestone)
    summary = _one_line(summary)
    blocks, _, sections = outline(text)
    every = list(milestones) or [milestone]
    entries = progress_entries(blocks, sections)
    bodies = [line_body(blocks.lines[e.line - 1]) for e in entries if e.tickable]
    numbered = [(e.line, e.naming(every)) for e in entries]
    named = set(matching_lines(numbered, milestone, every))
    style = plan_style(bodies)
    if not any(e.tickable or e.checked for e in entries if e.line in named):
        title = _one_line(milestone.title)
        entry = f"Milestone {milestone.id}: {title}" + (f" — {summary}" if summary else "")
        if style.prefix:
            entry = f"{style.render(when)} {entry}"
        else:
            entry = f"{entry}{style.lead}{style.render(when)}"
        return add_progress_item(text, item=entry, checked=True, when=None)
    pending = [e for e in entries if e.line in named and e.tickable and not e.checked]
    lines = split_lines(text)
    for e in pending:
        raw = lines[e.line - 1]
        body = line_body(raw)
        lines[e.line - 1] = _ticked(body, style, when) + raw[len(body) :]
    return "".join(lines)
