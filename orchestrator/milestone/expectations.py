"""Expected output: what a check's output must contain besides exiting 0.

A ``validate`` block states it with ``# expect: TEXT`` (the output holds TEXT,
compared with runs of whitespace as one space, and not as part of a longer word
or number: ``4 passed`` is not met by ``14 passed``) or ``# expect-re: REGEX``
(a Python regular expression searched in the output, multi-line). Works on the
output only, so it does not care how the check was run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

_TAIL_LIMIT = 8 * 1024 * 1024


def _literal(value: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(w) for w in value.split())
    start = r"(?<![\w])" if value[:1].isalnum() else ""
    end = r"(?![\w])" if value[-1:].isalnum() else ""
    return re.compile(start + body + end)


def unmet(expect: Sequence[str], output: str) -> list[str]:
    """The expectations ``output`` does not meet, each as a short sentence."""
    missing: list[str] = []
    for item in expect:
        key, _, value = item.partition(":")
        value = value.strip()
        if key.strip() == "expect-re":
            try:
                found = re.search(value, output, re.MULTILINE) is not None
            except re.error as exc:
                missing.append(f"`expect-re: {value}` is not a valid regular expression ({exc})")
                continue
            if not found:
                missing.append(f"no match for the regular expression {value!r}")
        elif not _literal(value).search(output):
            missing.append(f"the output does not contain {value!r}")
    return missing


def describe(missing: Sequence[str]) -> str:
    """The note appended to a check's output when an expectation fails."""
    return "[exit 0, but the expected output was not found: " + "; ".join(missing) + "]"


def full_output(transcript: Path | None, tail: str) -> str:
    """The check's whole output when its log exists (the first ``$ command`` line dropped)."""
    if transcript is None or not transcript.exists():
        return tail
    with transcript.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - _TAIL_LIMIT))
        text = f.read().decode("utf-8", "replace")
    if size <= _TAIL_LIMIT and text.startswith("$ "):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return text
