"""Whether a heading's text names a milestone-like unit: ``Milestone 2: Title``, ``M1 -
Title``, ``Phase 3``, in the languages real plans use.

Regular expressions only (no parser, no models), so that the pre-scan of
:mod:`orchestrator.plan.prescan` can ask without loading the rest of ``plan/``;
:mod:`orchestrator.plan.milestones` builds its candidates on it.
"""

from __future__ import annotations

import functools
import re

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
_NUMBERED = re.compile(r"^(?P<id>\d+(?:\.\d+)?)(?:[.)]|\s*[:：\-—–])?\s+(?P<title>\S.*)$")
_EMPHASIS = re.compile(r"\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)")


def match_heading(text: str, *, prose: bool = False) -> tuple[str, str | None, str] | None:
    """(word, id or None, title) when a heading's text names a milestone-like unit.

    With ``prose`` the text opens a paragraph (``Milestone 2 updates the docs``),
    so a verb such as "updates" after the number is no sign of a restatement.
    """
    return _match_heading(text, prose)


@functools.lru_cache(maxsize=2048)
def _match_heading(text: str, prose: bool) -> tuple[str, str | None, str] | None:
    """Cached: a pure function of its arguments, asked for the same headings each time a
    plan is read."""
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
        if m.group("sep") is None and title and not prose and _RESTATED.match(title):
            return None
        return word, label.lstrip("#") if label else None, _tidy(title)
    m = _ID_RE.match(text)
    if m:
        return "id", m.group("id"), _tidy(m.group("title"))
    return None


def _tidy(title: str) -> str:
    return " ".join(title.split()).strip(" *_")


def numbered_heading(text: str) -> tuple[str, str | None, str] | None:
    """``1. Title`` or ``3.5 Title``: a milestone when it sits in a Milestones section."""
    m = _NUMBERED.match(_EMPHASIS.sub("", text).strip())
    if m is None:
        return None
    return "milestone", m.group("id"), _tidy(m.group("title"))
