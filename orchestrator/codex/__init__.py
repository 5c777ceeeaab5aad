"""`codex exec`: argv, JSONL event models, the supervised process, retries."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """How a step ended (light to import, so the run state can name it without codex)."""

    OK = "ok"  # turn.completed and exit 0
    TRANSIENT = "transient"  # 429/5xx, network, stream cut, crash without a turn result
    PERMANENT = "permanent"  # auth/config errors, unknown flags, invalid schema
    TIMEOUT = "timeout"  # our wall-clock limit
    STALLED = "stalled"  # no event for stall_timeout seconds
    CANCELLED = "cancelled"  # we were cancelled (signal, budget)
    USAGE_LIMIT = "usage_limit"  # the plan's usage limit (or a long 429 Retry-After)
