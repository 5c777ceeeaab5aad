"""Which milestone a line of the plan names: by number or id first, then by title.

Real plans restate milestones in Progress with other words than their headings:
``- [x] (2025-10-02) Milestone 2 (parser): done`` for ``### Milestone 2: Parse the
input``, ``- [x] M1 — scaffolding`` for ``## M1: Scaffold``, ranges such as
``Milestones 1-3``. A line names a milestone *strongly* when it carries the
milestone's number or id after a unit word (``Milestone 2``, ``Phase 2``,
``PR #2``) or, for ids with letters, on their own (``M1``); *weakly* when it only
contains the milestone's title.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from orchestrator.plan.model import Milestone

_UNIT = (
    r"(?:milestones?|meilensteine?|phases?|stages?|steps?|parts?|prs?|iterations?"
    r"|里程碑|マイルストーン|阶段|フェーズ|段階|단계|마일스톤)"
)
_LABEL = r"#?[A-Za-z]{0,2}\d+(?:\.\d+)?[a-z]?"
# "Milestone 2", "Milestones 1-3", "Milestones 1, 2 and 4", "Phase 2 to 4"
_MENTION = re.compile(
    rf"(?<![\w])(?P<unit>{_UNIT})\s*(?P<first>{_LABEL})(?![\w]|\.\d)"
    rf"(?P<more>(?:(?:\s*(?:,|&|\band\b|\bto\b|\bund\b|\bbis\b|/)\s*|[-–])"
    rf"{_LABEL}(?![\w]|\.\d))*)",
    re.IGNORECASE,
)
_MORE = re.compile(rf"(?P<sep>,|&|and|to|und|bis|[-–]|/)\s*(?P<label>{_LABEL})", re.IGNORECASE)
_RANGE_SEPS = frozenset({"to", "bis", "-", "–"})
_MAX_RANGE = 50
_DIGITS = re.compile(r"\d+")


def _number(label: str) -> int | None:
    m = _DIGITS.search(label)
    return int(m.group(0)) if m and "." not in label else None


def mentioned_labels(text: str) -> tuple[set[str], set[int]]:
    """The labels (casefolded, ``#`` dropped) and numbers a line names after a unit word.

    Only mentions with the line's first unit word count: in ``Milestone 2 step 1``
    the step is part of milestone 2, not milestone 1.
    """
    labels: set[str] = set()
    numbers: set[int] = set()
    unit: str | None = None
    for m in _MENTION.finditer(text):
        word = m.group("unit").casefold().rstrip("s")
        unit = unit or word
        if word != unit:
            continue
        first = m.group("first").lstrip("#").casefold()
        labels.add(first)
        prev = _number(first)
        if prev is not None:
            numbers.add(prev)
        for more in _MORE.finditer(m.group("more") or ""):
            label = more.group("label").lstrip("#").casefold()
            labels.add(label)
            n = _number(label)
            if n is None:
                continue
            ranged = more.group("sep").casefold() in _RANGE_SEPS
            if ranged and prev is not None and prev < n <= prev + _MAX_RANGE:
                numbers.update(range(prev, n + 1))
            numbers.add(n)
            prev = n
    return labels, numbers


def names_strongly(text: str, m: Milestone) -> bool:
    """Whether ``text`` names ``m`` by its id or number (``Milestone 2``, ``M2``)."""
    labels, numbers = mentioned_labels(text)
    mid = m.id.casefold()
    if mid in labels:
        return True
    if m.id.isdigit() and int(m.id) in numbers:
        return True
    if m.id.isdigit() and re.search(rf"(?<![\w.])m{int(m.id)}(?![\w]|\.\d)", text.casefold()):
        return True  # "M2" for "Milestone 2"
    if not m.id.isdigit() and re.search(
        rf"(?<![\w]){re.escape(mid)}(?![\w]|\.\d)", text.casefold()
    ):
        return True
    return m.number is not None and not m.id.isdigit() and m.number in numbers


def names_by_title(text: str, m: Milestone) -> bool:
    """Whether ``text`` contains the milestone's title (8 characters or more)."""
    title = " ".join(m.title.split()).casefold()
    return len(title) >= 8 and title in " ".join(text.split()).casefold()


def names_any_strongly(text: str, milestones: Sequence[Milestone]) -> bool:
    return any(names_strongly(text, m) for m in milestones)


def matching_lines(
    lines: Sequence[tuple[int, str]], m: Milestone, milestones: Sequence[Milestone]
) -> list[int]:
    """The lines (numbers) naming ``m``: those naming it by number or id, else by title.

    A line that names another milestone by number or id never matches by title.
    """
    strong = [n for n, text in lines if names_strongly(text, m)]
    if strong:
        return strong
    others = [x for x in milestones if x.id != m.id]
    return [
        n for n, text in lines if names_by_title(text, m) and not names_any_strongly(text, others)
    ]
