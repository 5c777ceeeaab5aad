"""Text shown on one line: the one place that flattens and truncates for display."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.store.state import RunState

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


def tokens_spent(run: RunState) -> str:
    """Both budgets of a run in words: the whole run's tokens and the last invocation's,
    each with its limit when it has one (status and the report)."""
    total_limit, limit = run.limits.total_tokens, run.limits.max_tokens
    text = f"{run.tokens_total:,} in the whole run" + (
        f" (limit {total_limit:,})" if total_limit else ""
    )
    used = run.tokens_total - run.invocation_tokens_start
    return text + f"; {used:,} in the last invocation" + (f" (limit {limit:,})" if limit else "")
