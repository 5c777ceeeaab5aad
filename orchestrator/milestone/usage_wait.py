"""Waiting out a usage limit inside the invocation's budget, or saying it cannot be.

When codex reports a usage limit with a reset time, the same step runs again
after the reset if that falls inside what this invocation may still spend
(``--max-wall``, ``--deadline`` and its grace; without either, at most
``budget.usage_limit_wait``). codex names the reset to the minute, so the wait
ends at the end of that minute (or a few seconds before the budget ends). The
live view counts down, the log has a heartbeat every few minutes, and a signal
cancels the wait like any other (the run stays resumable). Otherwise the loop
parks the run: status ``usage_limit``, exit 4, no attempt spent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio
import structlog

from orchestrator.ui.events import ProgressEvent

log = structlog.get_logger()

HEARTBEAT = 300.0  # seconds between log lines while waiting
MAX_WAITS = 3  # waits per step; a limit that keeps coming back parks the run
_MARGIN = 5.0  # keep this much of the budget for the step itself
_MINUTE = 60.0


def plan_wait(resets_at: float | None, now: float, allowed: float) -> float | None:
    """Seconds to wait before trying again, or None when the reset is unknown or too late.

    ``allowed`` is how long this invocation may still wait.
    """
    if resets_at is None:
        return None
    safe = resets_at + _MINUTE - now  # codex cut the time to the minute
    if safe <= allowed - _MARGIN:
        return max(1.0, safe)
    if resets_at - now <= allowed - _MARGIN:
        return max(1.0, allowed - _MARGIN)
    return None


async def wait_until(
    until: float,
    reason: str,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    heartbeat: float = HEARTBEAT,
) -> None:
    """Sleep until ``until`` (unix time), logging a countdown event and heartbeats."""
    log.info(
        ProgressEvent.USAGE_LIMIT_WAIT,
        until=until,
        wait_s=round(until - clock(), 1),
        reason=reason,
    )
    while (left := until - clock()) > 0:
        await sleep(min(heartbeat, left))
        left = until - clock()
        if left > 0:
            log.info("usage_limit_waiting", left_s=round(left), until=until)
    log.info("usage_limit_wait_over", until=until)
