"""The Progress section's entries as people write them, each with its context.

An entry is a checkbox item (``- [x] ...``), or an item opened by a status emoji
(``- ✅ Milestone 1 ...``, ``- ⬜ ...``). Its *context* is what names its
milestone when the item itself does not: the item it is nested under, or the
heading or label line above it inside Progress::

    ### Milestone 2              - [ ] Milestone 3: exports
    - [x] parser                   - [x] CSV
    - [ ] errors                   - [ ] Parquet

Only checkbox items can be ticked in place (``tickable``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.plan.blocks import Blocks
from orchestrator.plan.document import PROGRESS_ITEM
from orchestrator.plan.model import Milestone, Section, SectionKind
from orchestrator.plan.naming import names_any_strongly
from orchestrator.plan.text import line_body

_EMOJI_ITEM = re.compile(
    r"^(?P<indent>\s*)(?:[-*+]|\d+[.)])\s+(?P<mark>✅|✔️?|☑️?|⬜|🔲|❌|⏳|🚧|🟡)\s*(?P<text>.*)$"
)
_DONE_EMOJI = frozenset({"✅", "✔", "✔️", "☑", "☑️"})
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?:[-*+]|\d+[.)])\s+(?P<text>.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.*?)\s*#*\s*$")


def _is_label(body: str) -> bool:
    """A line that heads the items below it: ``**Milestone 2**``, ``Milestone 2:``."""
    text = body.strip()
    if body[:1].isspace():
        return False
    return text.endswith((":", "：")) or (text.startswith("**") and text.endswith("**"))


@dataclass(frozen=True)
class Entry:
    """One Progress entry: its line, its own words, its context, whether it is ticked."""

    line: int
    text: str
    context: str
    checked: bool
    tickable: bool

    def naming(self, milestones: Sequence[Milestone]) -> str:
        """The words that name the entry's milestone: its own, else its context's."""
        if self.context and not names_any_strongly(self.text, milestones):
            return f"{self.context} / {self.text}"
        return self.text


def progress_entries(blocks: Blocks, sections: list[Section]) -> list[Entry]:
    """The Progress section's entries in order (none when the plan has no Progress)."""
    sec = next((s for s in sections if s.kind is SectionKind.PROGRESS), None)
    if sec is None:
        return []
    entries: list[Entry] = []
    label = ""
    parents: list[tuple[int, str]] = []  # (indent, text) of the enclosing list items
    for n in range(sec.span.start + 1, sec.span.end + 1):
        if n in blocks.code_lines:
            continue
        body = line_body(blocks.lines[n - 1])
        if not body.strip():
            continue
        heading = _HEADING.match(body)
        item = _LIST_ITEM.match(body)
        if heading is not None or (item is None and _is_label(body)):
            label = (heading.group("text") if heading else body).strip()
            parents = []
            continue
        if item is None:
            continue
        indent = len(item.group("indent").expandtabs(4))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        context = parents[-1][1] if parents else label
        box = PROGRESS_ITEM.match(body)
        emoji = _EMOJI_ITEM.match(body) if box is None else None
        if box is not None:
            text = box.group("text").strip()
            entries.append(Entry(n, text, context, box.group("mark") != " ", True))
        elif emoji is not None:
            text = emoji.group("text").strip()
            entries.append(Entry(n, text, context, emoji.group("mark") in _DONE_EMOJI, False))
        else:
            text = item.group("text").strip()
        parents.append((indent, text))
    return entries
