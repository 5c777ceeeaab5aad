"""The transient retry policy: bounded, logged, injectable sleep, last result returned."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

from orchestrator.retry import transient_policy


def _run(
    results: list[str], **kw: float
) -> tuple[str, int, list[float], list[MutableMapping[str, Any]]]:
    waits: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        return results[min(calls, len(results)) - 1]

    opts: dict[str, float] = {"retries": 3, "max_time": 60, "initial_wait": 2, "max_wait": 5}
    opts.update(kw)
    policy = transient_policy(
        retries=int(opts["retries"]),
        max_time=opts["max_time"],
        initial_wait=opts["initial_wait"],
        max_wait=opts["max_wait"],
        is_transient=lambda r: r == "busy",
        reason=lambda r: f"got {r}",
        sleep=sleep,
    )

    async def main() -> str:
        result: str = await policy(attempt)
        return result

    with capture_logs() as logs:
        result = anyio.run(main)
    return result, calls, waits, logs


def test_retries_until_success_with_growing_capped_waits() -> None:
    result, calls, waits, logs = _run(["busy", "busy", "busy", "ok"])
    assert (result, calls) == ("ok", 4)
    assert len(waits) == 3
    assert 2 <= waits[0] <= 4
    assert all(w <= 5 for w in waits)
    retry_logs = [e for e in logs if e["event"] == "step_retry"]
    assert [e["attempt_no"] for e in retry_logs] == [2, 3, 4]
    assert retry_logs[0]["max_attempts"] == 4
    assert retry_logs[0]["message"] == "attempt 2 of 4: got busy"


def test_gives_back_the_last_result_when_out_of_attempts() -> None:
    result, calls, waits, _ = _run(["busy"], retries=2)
    assert (result, calls, len(waits)) == ("busy", 3, 2)


def test_non_transient_is_not_retried() -> None:
    result, calls, waits, _ = _run(["fatal", "ok"])
    assert (result, calls, waits) == ("fatal", 1, [])


def test_total_time_bound() -> None:
    # max_time=0: the deadline has passed after the first attempt.
    result, calls, _, _ = _run(["busy", "ok"], max_time=0.000001)
    assert (result, calls) == ("busy", 1)


def test_exceptions_propagate() -> None:
    async def boom() -> str:
        raise ValueError("bug")

    policy = transient_policy(
        retries=3, max_time=9, initial_wait=0, max_wait=0,
        is_transient=lambda r: True, reason=str,
    )  # fmt: skip

    async def main() -> None:
        await policy(boom)

    with pytest.raises(ValueError, match="bug"):
        anyio.run(main)
