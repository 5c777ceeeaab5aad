"""Turning a plan's "Expected:" text into assertions precise enough to enforce.

A transcript is full of things that change from run to run (durations, dates,
paths, hashes) and plans abbreviate with ``...`` or ``<time>``. We keep only
what must hold: a known summary (``4 passed``, ``test result: ok``, ``Success:
no issues found``) or, for a short single-line output, the line itself when
nothing in it looks volatile. Prose ("all tests pass") asserts nothing beyond
exit status 0 and yields nothing.
"""

from __future__ import annotations

import re

_SUMMARIES = [
    re.compile(r"\b\d+ passed\b"),
    re.compile(r"\btest result: ok\b"),
    re.compile(r"\bSuccess: no issues found\b"),
    re.compile(r"\bAll checks passed!"),
    re.compile(r"\b0 errors?, 0 warnings?\b"),
    re.compile(r"\bFound 0 errors\b"),
    re.compile(r"\bTests:\s+\d+ passed\b"),
    re.compile(r"\bBUILD SUCCESS(?:FUL)?\b"),
    re.compile(r"\bBuild succeeded\b"),
    re.compile(r"^ok\s+[\w.-]+/[\w./-]+"),
    re.compile(r"^PASS$"),
    re.compile(r"^OK$"),
]
_VOLATILE = re.compile(
    r"<[^>]*>|\.\.\.|…|\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds|m|min)\b|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}:\d{2}|\b[0-9a-f]{7,40}\b|/(?:Users|home|tmp|var)/|\bpid\b|\bport \d+|0x[0-9a-f]+"
    r"|\b(?:N|X|NN)\b|\[[^\]]*\]\(",
    re.IGNORECASE,
)
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_NUMBERED_PROSE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_WORDY = re.compile(r"\b(?:should|must|will|the|all|and|that|then|you|see|when)\b", re.I)
_MAX = 120
_MAX_LINES = 6


def _clean(line: str) -> str:
    return " ".join(line.split())


def _summaries(text: str) -> list[str]:
    found: list[str] = []
    for raw in text.splitlines():
        line = _clean(raw)
        for pattern in _SUMMARIES:
            m = pattern.search(line)
            if m and m.group(0) not in found:
                found.append(m.group(0))
                break
    return found


def from_output(text: str) -> list[str]:
    """Assertions from a transcript or output block (lines of program output)."""
    summaries = _summaries(text)
    if summaries:
        return summaries[-1:]
    lines = [_clean(x) for x in text.splitlines() if x.strip()]
    lines = [x for x in lines if not x.startswith(("$ ", "# ", "// "))]
    if not lines or len(lines) > _MAX_LINES:
        return []
    steady = [x for x in lines if len(x) <= _MAX and not _VOLATILE.search(x)]
    return steady[:1]


def from_prose(text: str) -> list[str]:
    """Assertions from a prose "Expected: ..." line: backticked output or a known summary."""
    quoted = [q for q in _BACKTICKED.findall(text) if not _VOLATILE.search(q)]
    if quoted:
        return [_clean(quoted[-1])][: 1 if len(quoted[-1]) <= _MAX else 0]
    summaries = _summaries(text)
    if summaries:
        return summaries[-1:]
    body = _NUMBERED_PROSE.sub("", text).strip()
    plain = body and not _WORDY.search(body) and len(body) <= 60 and not _VOLATILE.search(body)
    if plain and (body.startswith(("{", "[", '"')) or body.isupper()):
        return [_clean(body)]
    return []
