"""Which canonical section a heading names, tolerating how real plans write it.

Handles case, ``&`` for "and", numbered prefixes (``## 1. Purpose``),
bilingual headings (``## Purpose / 目的``), and common synonyms ("Goal",
"Objective", "Decisions"), in English, Chinese, Japanese, Korean and German.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # light at run time: the pre-scan (plan/prescan.py) classifies headings
    from orchestrator.plan.blocks import Blocks, Heading


class SectionKind(StrEnum):
    """The canonical sections of an ExecPlan (see .agent/PLANS.md)."""

    PURPOSE = "purpose"
    PROGRESS = "progress"
    SURPRISES = "surprises"
    DECISIONS = "decisions"
    OUTCOMES = "outcomes"
    CONTEXT = "context"
    PLAN_OF_WORK = "plan_of_work"
    CONCRETE_STEPS = "concrete_steps"
    VALIDATION = "validation"
    IDEMPOTENCE = "idempotence"
    ARTIFACTS = "artifacts"
    INTERFACES = "interfaces"
    MILESTONES = "milestones"


_NUMBER_PREFIX = re.compile(
    r"^\s*(?:(?:\d+(?:\.\d+)*|[ivxlc]+|[a-z])[.)]|\d+(?:\.\d+)+|§\s*\d+)\s*"
)
_PARTS = re.compile(r"\s+/\s+|／|\s*[|｜]\s*|\s*[(（]|[)）]\s*")
_W = r"(?![a-z])"

_PATTERNS: list[tuple[SectionKind, re.Pattern[str]]] = [
    (
        SectionKind.PURPOSE,
        re.compile(
            rf"^(?:purpose{_W}|big picture{_W}|goals?{_W}|objectives?{_W}|zweck|ziele?{_W}"
            r"|目的|目标|目標|목적|개요)"
        ),
    ),
    (
        SectionKind.PROGRESS,
        re.compile(rf"^(?:progress{_W}|fortschritt|进度|進度|進捗|进展|進展|진행)"),
    ),
    (
        SectionKind.SURPRISES,
        re.compile(
            rf"^(?:surprises?{_W}|discoveries{_W}|überraschungen|erkenntnisse"
            r"|意外|发现|發現|発見|驚き|驚喜|놀라운|발견)"
        ),
    ),
    (
        SectionKind.DECISIONS,
        re.compile(
            rf"^(?:decisions?{_W}|adrs?{_W}|architecture decisions?{_W}|entscheidungen"
            r"|决策|決策|決定|意思決定|결정)"
        ),
    ),
    (
        SectionKind.OUTCOMES,
        re.compile(
            rf"^(?:outcomes?{_W}|retrospective{_W}|results? and retrospective|ergebnisse"
            r"|成果|结果|結果|振り返り|回顾|回顧|회고|결과)"
        ),
    ),
    (
        SectionKind.CONTEXT,
        re.compile(
            rf"^(?:context{_W}|orientation{_W}|background{_W}|kontext|hintergrund"
            r"|背景|上下文|コンテキスト|맥락|배경)"
        ),
    ),
    (
        SectionKind.PLAN_OF_WORK,
        re.compile(
            rf"^(?:plan of work{_W}|work plan{_W}|implementation plan{_W}|arbeitsplan"
            r"|工作计划|工作計劃|实施计划|實施計劃|作業計画|実装計画|작업 계획)"
        ),
    ),
    (
        SectionKind.CONCRETE_STEPS,
        re.compile(
            rf"^(?:concrete steps{_W}|steps$|konkrete schritte"
            r"|具体步骤|具體步驟|具体的な手順|手順$|구체적)"
        ),
    ),
    (
        SectionKind.VALIDATION,
        re.compile(
            rf"^(?:validation{_W}|acceptance{_W}|verification{_W}|validierung|abnahme"
            r"|验证|驗證|验收|驗收|検証|受け入れ|검증)"
        ),
    ),
    (
        SectionKind.IDEMPOTENCE,
        re.compile(
            rf"^(?:idempoten(?:ce|cy){_W}|recovery{_W}|wiederholbarkeit|幂等|冪等|복구|멱등)"
        ),
    ),
    (
        SectionKind.ARTIFACTS,
        re.compile(rf"^(?:artifacts?{_W}|artefacts?{_W}|artefakte|产物|產物|成果物|아티팩트)"),
    ),
    (
        SectionKind.INTERFACES,
        re.compile(
            rf"^(?:interfaces?{_W}|dependencies{_W}|schnittstellen|接口|インターフェース|인터페이스)"
        ),
    ),
    (
        SectionKind.MILESTONES,
        re.compile(r"^(?:milestones(?: overview| list)?$|meilensteine$|里程碑$|マイルストーン$)"),
    ),
]

CANONICAL_ORDER: list[SectionKind] = [
    SectionKind.PURPOSE,
    SectionKind.PROGRESS,
    SectionKind.SURPRISES,
    SectionKind.DECISIONS,
    SectionKind.OUTCOMES,
    SectionKind.CONTEXT,
    SectionKind.PLAN_OF_WORK,
    SectionKind.MILESTONES,
    SectionKind.CONCRETE_STEPS,
    SectionKind.VALIDATION,
    SectionKind.IDEMPOTENCE,
    SectionKind.ARTIFACTS,
    SectionKind.INTERFACES,
]

CANONICAL_HEADING: dict[SectionKind, str] = {
    SectionKind.PURPOSE: "Purpose / Big Picture",
    SectionKind.PROGRESS: "Progress",
    SectionKind.SURPRISES: "Surprises & Discoveries",
    SectionKind.DECISIONS: "Decision Log",
    SectionKind.OUTCOMES: "Outcomes & Retrospective",
    SectionKind.CONTEXT: "Context and Orientation",
    SectionKind.PLAN_OF_WORK: "Plan of Work",
    SectionKind.MILESTONES: "Milestones",
    SectionKind.CONCRETE_STEPS: "Concrete Steps",
    SectionKind.VALIDATION: "Validation and Acceptance",
    SectionKind.IDEMPOTENCE: "Idempotence and Recovery",
    SectionKind.ARTIFACTS: "Artifacts and Notes",
    SectionKind.INTERFACES: "Interfaces and Dependencies",
}

LIVING: frozenset[SectionKind] = frozenset(
    {SectionKind.PROGRESS, SectionKind.SURPRISES, SectionKind.DECISIONS, SectionKind.OUTCOMES}
)

OPTIONAL: frozenset[SectionKind] = frozenset(
    {
        SectionKind.MILESTONES,
        SectionKind.IDEMPOTENCE,
        SectionKind.ARTIFACTS,
        SectionKind.INTERFACES,
    }
)
MANDATORY: list[SectionKind] = [k for k in CANONICAL_ORDER if k not in OPTIONAL]


def _normalise(text: str) -> str:
    text = text.strip().strip("*_`").strip().casefold()
    text = text.replace("&", " and ").replace("＆", " and ")
    text = _NUMBER_PREFIX.sub("", text)
    return re.sub(r"\s+", " ", text).strip(" :：.-—–")


def classify(text: str) -> SectionKind | None:
    """The canonical section a heading's text names, or None."""
    return _classify(text)


@functools.lru_cache(maxsize=2048)
def _classify(text: str) -> SectionKind | None:
    """Cached: a pure function of the text, asked for every heading each time a plan is
    read (after every edit of it), over and over for the same few headings."""
    for part in _PARTS.split(_normalise(text)):
        part = _NUMBER_PREFIX.sub("", part.strip(" :：.-—–")).strip()
        if not part:
            continue
        for kind, pattern in _PATTERNS:
            if pattern.search(part):
                return kind
    return None


def title_heading(blocks: Blocks) -> Heading | None:
    """The plan's title: its first level-1 heading, when it opens the document."""
    for h in blocks.headings:
        if h.level == 1:
            return h
        return None
    return None


def parent_heading(blocks: Blocks, heading: Heading) -> Heading | None:
    """The nearest heading above ``heading`` with a lower level (its enclosing heading)."""
    parent: Heading | None = None
    for h in blocks.headings:
        if h.line >= heading.line:
            break
        if h.level < heading.level:
            parent = h
    return parent


def section_level(blocks: Blocks) -> int:
    """The heading level at which the plan's canonical sections sit (usually 2).

    A section one level deeper, inside a heading that names no section (a
    ``## Living plan`` wrapper around ``### Progress``), counts for the
    wrapper's level: such plans keep their other sections at the wrapper's level.
    """
    title = title_heading(blocks)
    scores: dict[int, int] = {}
    for h in blocks.headings:
        if h is title or classify(h.text) is None:
            continue
        level = h.level
        parent = parent_heading(blocks, h)
        if (
            parent is not None
            and parent is not title
            and parent.level == h.level - 1
            and classify(parent.text) is None
        ):
            level = parent.level
        scores[level] = scores.get(level, 0) + 1
    if not scores:
        return 2
    return max(sorted(scores), key=lambda lv: scores[lv])
