"""Text shown on one line: the one place that flattens and truncates for display."""

from __future__ import annotations

ELLIPSIS = "…"
NEWLINE_MARK = " ⏎ "


def one_line(text: str, limit: int | None = None, *, newline: str = NEWLINE_MARK) -> str:
    """``text`` on one line: runs of blanks collapsed, line breaks shown as ``newline``
    (blank lines dropped), cut to ``limit`` characters with a trailing ``…``."""
    parts = (" ".join(line.split()) for line in text.splitlines())
    flat = newline.join(part for part in parts if part)
    if limit is None or len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)] + ELLIPSIS


def polled(polls: int) -> str:
    """How often the model polled a running command, in words."""
    if polls <= 0:
        return "the model never polled it"
    return "the model polled it once" if polls == 1 else f"the model polled it {polls} times"
