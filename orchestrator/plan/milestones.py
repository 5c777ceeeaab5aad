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

from orchestrator.plan.blocks import Blocks, Heading
from orchestrator.plan.model import SectionKind
from orchestrator.plan.sections import LIVING

_WORDS: dict[str, str] = {
    "milestone": "milestone",
    "meilenstein": "milestone",
    "里程碑": "milestone",
    "マイルストーン": "milestone",
    "마일스톤": "milestone",
    "phase": "phase",
    "フェーズ": "phase",
    "阶段": "phase",
    "段階": "phase",
    "단계": "phase",
    "stage": "stage",
    "part": "part",
    "pr": "pr",
    "iteration": "iteration",
    "step": "step",
    "schritt": "step",
    "ステップ": "step",
    "步骤": "step",
}
_PRIORITY = ["milestone", "id", "phase", "stage", "part", "iteration", "pr", "step"]
_SEP = r"[:：\-—–.]"
_WORD_RE = re.compile(
    r"^(?:\d+[.)]\s+)?(?P<word>"
    + "|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True))
    + r")(?![a-z])\s*(?P<id>#?[A-Za-z]{0,2}\d+(?:\.\d+)?[a-z]?)?\s*"
    + rf"(?P<sep>{_SEP}+)?\s*(?P<title>.*)$",
    re.IGNORECASE,
)
_ID_RE = re.compile(rf"^(?P<id>[A-Z]{{1,3}}\d+[a-z]?)\s*(?P<sep>{_SEP}+)\s*(?P<title>\S.*)$")
_RESTATED = re.compile(
    r"^[(\[]?(?:update[sd]?|status|progress|notes?|recap|summary|continued|revisited|"
    r"retrospective|results?|review|follow-?up)\b",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_EMPHASIS = re.compile(r"\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)")


@dataclass(frozen=True)
class Candidate:
    heading: Heading
    word: str
    label: str | None
    title: str
    container: int | None
    container_kind: SectionKind | None


def match_heading(text: str) -> tuple[str, str | None, str] | None:
    """(word, id or None, title) when a heading's text names a milestone-like unit."""
    text = _EMPHASIS.sub("", text).strip()
    m = _WORD_RE.match(text)
    if m:
        word = _WORDS[m.group("word").casefold()]
        label = m.group("id")
        title = m.group("title").strip()
        if m.group("sep") is None and (title == "" and label is None):
            return None
        if m.group("sep") is None and title and label is None:
            return None
        if m.group("sep") is None and title and _RESTATED.match(title):
            return None
        return word, label.lstrip("#") if label else None, title.strip(" *_")
    m = _ID_RE.match(text)
    if m:
        return "id", m.group("id"), m.group("title").strip(" *_")
    return None


def number_of(label: str | None) -> int | None:
    if label is None:
        return None
    m = _DIGITS.search(label)
    return int(m.group(0)) if m else None


def candidates(
    blocks: Blocks, level: int, containers: list[tuple[Heading, int, SectionKind | None]]
) -> list[Candidate]:
    """Every heading that looks like a milestone, with its enclosing section."""
    found: list[Candidate] = []
    for h in blocks.headings:
        matched = match_heading(h.text)
        if matched is None or h.level < level:
            continue
        container: tuple[Heading, int, SectionKind | None] | None = None
        if h.level > level:
            container = next(
                (c for c in containers if c[0].line < h.line <= c[1]),
                None,
            )
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
    note = f"milestones: {len(best)} from {word} level-{first.heading.level} headings {where}"
    return best, note
