"""The one module that builds tenacity retry policies.

A retry is never a repair attempt: only results classified as transient are
retried, bounded by a count and a total time, with exponential backoff and
jitter, and each retry is logged as ``step_retry`` ("attempt N of M: reason").
The sleep is injectable so tests never wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from orchestrator.ui.events import ProgressEvent

log = structlog.get_logger()

Sleep = Callable[[float], Awaitable[None]]


def transient_policy(
    *,
    retries: int,
    max_time: float,
    initial_wait: float,
    max_wait: float,
    is_transient: Callable[[Any], bool],
    reason: Callable[[Any], str],
    sleep: Sleep | None = None,
) -> AsyncRetrying:
    """Retry while ``is_transient(result)``; give back the last result when out of tries.

    The callable retried must not raise for expected failures: it returns a
    result that ``is_transient`` judges. Exceptions propagate unretried.
    """
    max_attempts = retries + 1

    def before_sleep(state: RetryCallState) -> None:
        result = state.outcome.result() if state.outcome is not None else None
        wait_s = state.next_action.sleep if state.next_action is not None else 0.0
        why = reason(result)
        log.warning(
            ProgressEvent.STEP_RETRY.value,
            attempt_no=state.attempt_number + 1,
            max_attempts=max_attempts,
            reason=why,
            wait_s=round(wait_s, 2),
            message=f"attempt {state.attempt_number + 1} of {max_attempts}: {why}",
        )

    def give_back(state: RetryCallState) -> Any:
        return state.outcome.result() if state.outcome is not None else None

    return AsyncRetrying(
        stop=stop_after_attempt(max_attempts) | stop_after_delay(max_time),
        wait=wait_exponential_jitter(multiplier=initial_wait, max=max_wait, jitter=initial_wait),
        retry=retry_if_result(is_transient),
        before_sleep=before_sleep,
        retry_error_callback=give_back,
        sleep=sleep or anyio.sleep,
        reraise=True,
    )
