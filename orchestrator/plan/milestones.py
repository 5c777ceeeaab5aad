"""Finding a plan's milestone headings, from one place only.

Real plans write milestones as ``### Milestone 2: Title`` under Plan of Work,
but also with other separators (`` - ``, `` — ``, ``.``, ``：``), without a
number, as ids (``M0: Title``), as Phase/Stage/Step headings, in a
``## Milestones`` section, or as top-level ``## Milestone 2 — Title``
headings. They are also restated (Progress items, "Milestone 2 update"
headings elsewhere). We collect every heading that looks like a milestone,
group the candidates by (word, level, enclosing section) and take the single
most plausible group, so nothing is counted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.plan.blocks import Blocks, Heading, section_end
from orchestrator.plan.milestone_heading import match_heading as match_heading
from orchestrator.plan.milestone_heading import numbered_heading
from orchestrator.plan.sections import LIVING, SectionKind
from orchestrator.plan.text import line_body

Container = tuple[Heading, int, SectionKind | None]
PARAGRAPH_LEVEL = 7
"""Pseudo heading level of a milestone written as a paragraph (``**Milestone 2: X**``)."""

_PRIORITY = ["milestone", "id", "phase", "stage", "part", "iteration", "pr", "step"]
_DIGITS = re.compile(r"\d+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s")
_PARAGRAPH_WORDS = frozenset({"milestone", "phase", "stage"})
_MERGEABLE = frozenset({None, SectionKind.PLAN_OF_WORK, SectionKind.MILESTONES})


@dataclass(frozen=True)
class Candidate:
    heading: Heading
    word: str
    label: str | None
    title: str
    container: int | None
    container_kind: SectionKind | None


def container_of(containers: list[Container], line: int) -> Container | None:
    """The innermost section holding ``line`` (containers are in document order)."""
    found: Container | None = None
    for c in containers:
        if c[0].line < line <= c[1]:
            found = c
    return found


def number_of(label: str | None) -> int | None:
    if label is None:
        return None
    m = _DIGITS.search(label)
    return int(m.group(0)) if m else None


def candidates(blocks: Blocks, level: int, containers: list[Container]) -> list[Candidate]:
    """Every heading that looks like a milestone, with its enclosing section."""
    found: list[Candidate] = []
    for h in blocks.headings:
        if h.level < level:
            continue
        container = container_of(containers, h.line) if h.level > level else None
        matched = match_heading(h.text)
        if (
            matched is None
            and container is not None
            and container[2] is SectionKind.MILESTONES
            and container[0].level == h.level - 1
        ):
            matched = numbered_heading(h.text)
        if matched is None:
            continue
        word, label, title = matched
        found.append(
            Candidate(
                heading=h,
                word=word,
                label=label,
                title=title,
                container=container[0].line if container else None,
                container_kind=container[2] if container else None,
            )
        )
    return found


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(" .。")


def _continuation(blocks: Blocks, line: int, heading_lines: set[int]) -> list[str]:
    """The paragraph's lines after ``line``, up to a blank line, a heading or code."""
    out: list[str] = []
    for n in range(line + 1, blocks.last_line + 1):
        body = line_body(blocks.lines[n - 1]).strip()
        if not body or n in heading_lines or n in blocks.code_lines or _LIST_ITEM.match(body):
            break
        out.append(body)
    return out


def paragraph_candidates(blocks: Blocks, containers: list[Container]) -> list[Candidate]:
    """Paragraphs that open with a numbered milestone: ``Milestone 2 adds ...``."""
    heading_lines = {h.line for h in blocks.headings}
    skip = blocks.front_matter[1] if blocks.front_matter else 0
    found: list[Candidate] = []
    opens = True
    for n, raw in enumerate(blocks.lines, start=1):
        body = line_body(raw)
        starts, opens = opens, not body.strip() or n in heading_lines
        if not starts or n <= skip or n in blocks.code_lines or n in heading_lines:
            continue
        if not body.strip() or body[:1].isspace() or _LIST_ITEM.match(body):
            continue
        matched = match_heading(body, prose=True)
        if matched is None or matched[0] not in _PARAGRAPH_WORDS or matched[1] is None:
            continue
        word, label, title = matched
        container = container_of(containers, n)
        found.append(
            Candidate(
                heading=Heading(n, PARAGRAPH_LEVEL, body.strip()),
                word=word,
                label=label,
                title=_first_sentence(" ".join([title, *_continuation(blocks, n, heading_lines)])),
                container=container[0].line if container else None,
                container_kind=container[2] if container else None,
            )
        )
    return found


def _span(blocks: Blocks, c: Candidate) -> tuple[int, int]:
    return c.heading.line, section_end(blocks, c.heading)


def _merge(blocks: Blocks, best: list[Candidate], found: list[Candidate]) -> list[Candidate]:
    """Add milestone groups at other levels that continue the chosen one.

    ``## Milestone 0`` followed by a section holding ``### M1`` ... ``### M7``:
    a group joins when every candidate has a number no chosen milestone has, it
    is not inside a section that restates milestones (Concrete Steps,
    Validation, ...), and no span of one group holds a heading of the other.
    """
    if best[0].word not in ("milestone", "id") or best[0].heading.level == PARAGRAPH_LEVEL:
        return best
    chosen = list(best)
    groups: dict[tuple[str, int, int | None], list[Candidate]] = {}
    for c in found:
        if c.word in ("milestone", "id") and c.container_kind in _MERGEABLE:
            groups.setdefault((c.word, c.heading.level, c.container), []).append(c)
    for group in groups.values():
        if group[0] in chosen:
            continue
        numbers = [number_of(c.label) for c in group]
        taken = {number_of(c.label) for c in chosen}
        if None in numbers or taken & set(numbers) or len(set(numbers)) < len(numbers):
            continue
        if not (_inside(blocks, group, chosen) or _inside(blocks, chosen, group)):
            chosen.extend(group)
    return sorted(chosen, key=lambda c: c.heading.line)


def _inside(blocks: Blocks, inner: list[Candidate], outer: list[Candidate]) -> bool:
    """Whether a heading of ``inner`` lies within the span of one of ``outer``."""
    spans = [_span(blocks, c) for c in outer]
    return any(s < c.heading.line <= e for c in inner for s, e in spans)


def find(blocks: Blocks, level: int, containers: list[Container]) -> tuple[list[Candidate], str]:
    """The plan's milestones: headings first, else paragraphs that open with one, else
    list items of a Milestones section."""
    found = candidates(blocks, level, containers)
    best, note = choose(found)
    if best:
        merged = _merge(blocks, best, found)
        if len(merged) > len(best):
            note = f"{note}, and {len(merged) - len(best)} more at other levels"
        return merged, note
    from orchestrator.plan.list_milestones import list_candidates  # it builds on this module

    groups = [
        (paragraph_candidates(blocks, containers), "paragraphs starting with the word"),
        (list_candidates(blocks, containers), "list items"),
    ]
    for group, what in groups:
        best, note = choose(group)
        labels = {c.label for c in best}
        if len(best) >= 2 and len(labels) == len(best):
            return best, note.replace("paragraphs starting with the word", what)
    return [], ""


def _place_rank(c: Candidate) -> int:
    if c.container_kind is SectionKind.PLAN_OF_WORK:
        return 0
    if c.container_kind is SectionKind.MILESTONES:
        return 1
    if c.container is None:
        return 2
    return 3


def choose(found: list[Candidate]) -> tuple[list[Candidate], str]:
    """The one most plausible group of candidates, and where it came from."""
    usable = [c for c in found if c.container_kind not in LIVING]
    groups: dict[tuple[str, int, int | None], list[Candidate]] = {}
    for c in usable:
        groups.setdefault((c.word, c.heading.level, c.container), []).append(c)
    if not groups:
        return [], ""
    best = min(
        groups.values(),
        key=lambda g: (
            0 if g[0].word in ("milestone", "id") else 1,
            _place_rank(g[0]),
            _PRIORITY.index(g[0].word),
            -len(g),
            g[0].heading.line,
        ),
    )
    first = best[0]
    word = "id-style (e.g. 'M1:')" if first.word == "id" else f"'{first.word.title()}'"
    where = {
        0: "under Plan of Work",
        1: "under the Milestones section",
        2: "as top-level headings",
        3: "under another section",
    }[_place_rank(first)]
    kind = (
        "paragraphs starting with the word"
        if first.heading.level == PARAGRAPH_LEVEL
        else f"level-{first.heading.level} headings"
    )
    note = f"milestones: {len(best)} from {word} {kind} {where}"
    return best, note
