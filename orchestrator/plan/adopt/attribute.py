"""Which milestone a command belongs to, following the plan's own structure.

Inside a milestone's span: that milestone. In Concrete Steps, Validation or
another section: the nearest label above it within the section, a heading or a
paragraph/list item that opens with "Milestone 2:" (or "Milestone 2-3:",
"**Phase 1**", "M2:"); a heading without a label ends the search. Progress items
name their milestone on their own line. Anything else is plan-level.
"""

from __future__ import annotations

import re

from orchestrator.plan import milestones as _ms
from orchestrator.plan.blocks import Blocks
from orchestrator.plan.model import ExecPlan, Milestone, SectionKind
from orchestrator.plan.text import line_body

_LABEL = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\[[ xX✓✔]\]\s*)?(?:[(\[]\d{4}-[^)\]]*[)\]]\s*)?"
    r"(?:\*\*|__|#+\s*)?(?:for\s+)?"
    r"(?P<word>milestones?|phases?|stages?|steps?|parts?|prs?|iterations?|meilensteine?|里程碑"
    r"|マイルストーン|フェーズ|阶段|단계|마일스톤)\s*#?\s*(?P<id>[A-Za-z]{0,2}\d+(?:\.\d+)?[a-z]?)"
    r"(?:\s*(?:-|–|—|to|and|&|bis|~)\s*(?P<to>\d+)|(?P<plus>\+))?"
    r"(?:\*\*|__)?\s*(?:[:：.)\-—–]|$|\*\*|\s+[-—–(]|\s+\w+\s*[:：])",
    re.IGNORECASE,
)
_ID_LABEL = re.compile(
    r"^\s*(?:[-*+]\s+|#+\s*)?(?:\*\*)?(?P<id>[A-Z]{1,3}\d+[a-z]?)(?:\*\*)?\s*[:：—–]"
)
_WORD = {"milestone": "milestone", "meilenstein": "milestone", "里程碑": "milestone",
         "マイルストーン": "milestone", "마일스톤": "milestone", "phase": "phase",
         "フェーズ": "phase", "阶段": "phase", "단계": "phase", "stage": "stage", "step": "step",
         "part": "part", "pr": "pr", "iteration": "iteration"}  # fmt: skip


def _word(raw: str) -> str:
    w = raw.casefold()
    w = w[:-1] if w.endswith("s") and w[:-1] in _WORD else w
    w = w[:-1] if w.endswith("e") and w[:-1] == "meilenstein" else w
    return _WORD.get(w, w)


def _own_word(m: Milestone) -> str:
    found = _ms.match_heading(m.heading, prose=True)
    return found[0] if found else "milestone"


def label_of(text: str, plan: ExecPlan) -> Milestone | None:
    """The milestone a label at the start of ``text`` names, if any."""
    m = _LABEL.match(text)
    if m:
        word = _word(m.group("word"))
        wanted = m.group("to") or m.group("id")
        for ms in plan.milestones:
            own = _own_word(ms)
            compatible = own == word or {own, word} <= {"milestone", "id"}
            if not compatible:
                continue
            if ms.id == wanted or (ms.number is not None and str(ms.number) == wanted.lstrip("0")):
                return ms
            if ms.number == 0 and wanted.strip("0") == "":
                return ms
        return None
    m = _ID_LABEL.match(text)
    if m:
        return next((ms for ms in plan.milestones if ms.id == m.group("id")), None)
    return None


def _inside(plan: ExecPlan, line: int) -> Milestone | None:
    for m in plan.milestones:
        if m.span.start <= line <= m.span.end:
            return m
    return None


def owner(plan: ExecPlan, blocks: Blocks, line: int, single: bool) -> str | None:
    """The id of the milestone ``line`` belongs to, or None for plan-level."""
    if single:
        return None
    inside = _inside(plan, line)
    if inside is not None:
        return inside.id
    section = None
    for s in plan.sections:
        if s.span.start <= line <= s.span.end and s.kind is not None:
            section = s
    if section is None:
        return None
    own = label_of(line_body(blocks.lines[line - 1]), plan)
    if own is not None or section.kind is SectionKind.PROGRESS:
        return own.id if own else None
    headings = {h.line: h for h in blocks.headings}
    below: int | None = None  # once past a heading, only its ancestors can label the line
    for n in range(line - 1, section.span.start, -1):
        if n in blocks.code_lines:
            continue
        heading = headings.get(n)
        if below is not None and (heading is None or heading.level >= below):
            continue
        found = label_of(line_body(blocks.lines[n - 1]), plan)
        if found is not None:
            return found.id
        if heading is not None:
            below = heading.level
    return None
