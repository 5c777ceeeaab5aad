"""Fingerprints of a milestone's remaining delta, stable across repair attempts.

The loop stops a milestone when the fingerprint of (diff against the
checkpoint, failing checks with their output, open findings) equals the
previous iteration's. Check output carries noise that changes on every run
(timestamps, durations, addresses, temp paths, pids); ``normalize_output``
removes it so only a real change of the failure changes the fingerprint.
"""

from __future__ import annotations

import hashlib
import re

_DUR = r"\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|sec|secs|seconds?|s|min|minutes?|m|h)(?![A-Za-z])"
_RULES: list[tuple[re.Pattern[str], str]] = [
    # ISO dates and times: 2026-11-21T23:59:59.123+00:00, 2026-11-21 23:59:59
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
        ),
        "<date>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    # temporary paths: /tmp/pytest-of-x/pytest-3/test_a0/file, /var/folders/..., tmpab12cd
    (re.compile(r"(?:/private)?/(?:tmp|var/folders|var/tmp)/[^\s:'\"()\[\],]*"), "<tmp>"),
    (re.compile(r"\btmp[a-z0-9_]{6,}\b"), "<tmp>"),
    (re.compile(r"\b0x[0-9a-fA-F]{4,}\b"), "<addr>"),
    # durations: 0.12s, 12 ms, 1.5 seconds, 3m12s, 1h30m, in 0.51s
    (re.compile(rf"\b{_DUR}(?:\s?{_DUR})*"), "<dur>"),
    (re.compile(r"\b(?:pid|PID|process)[ =:#]+\d+\b"), "<pid>"),
    (re.compile(r"[ \t]+$", re.MULTILINE), ""),
]


def normalize_output(text: str) -> str:
    """``text`` without the parts that change between otherwise identical runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text.strip("\n")


def fingerprint(*parts: str) -> str:
    """sha256 hex of the parts, each normalized; order matters, boundaries are kept."""
    h = hashlib.sha256()
    for part in parts:
        data = normalize_output(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()
