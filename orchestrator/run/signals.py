"""Signals before and after the run loop listens for them itself.

While :class:`orchestrator.run.runner.Runner` runs, anyio's signal receiver turns
SIGINT/SIGTERM/SIGHUP into a graceful stop. Between claiming the run state and
that point (and after it), :func:`signals_raise` turns SIGTERM and SIGHUP into
:class:`Terminated` (SIGINT already raises KeyboardInterrupt), so the supervisor
can still save the state as interrupted instead of dying with the state claimed.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import anyio
import structlog
from anyio import TASK_STATUS_IGNORED
from anyio.abc import TaskStatus

from orchestrator.errors import ExitCode

log = structlog.get_logger()

_CAUGHT = (signal.SIGTERM, signal.SIGHUP)

# The exit code of a run stopped by a signal.
SIGNAL_EXIT = {
    signal.SIGINT: ExitCode.INTERRUPTED,
    signal.SIGTERM: ExitCode.TERMINATED,
    signal.SIGHUP: ExitCode.TERMINATED,
}

# The exit code that goes with a run state's final status.
EXIT_BY_STATUS: dict[str, int] = {
    "passed": int(ExitCode.OK),
    "needs_human": int(ExitCode.NEEDS_HUMAN),
    "gave_up": int(ExitCode.GAVE_UP),
    "budget": int(ExitCode.GAVE_UP),
    "unavailable": int(ExitCode.GAVE_UP),
    "usage_limit": int(ExitCode.GAVE_UP),
    "setup": int(ExitCode.USAGE),
    "failed": int(ExitCode.INTERNAL),
}


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while the supervisor itself was running."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, Terminated):
        return int(ExitCode.TERMINATED)
    return int(ExitCode.INTERRUPTED)


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM/SIGHUP raise :class:`Terminated` inside the block."""
    old = {s: signal.signal(s, _raise) for s in _CAUGHT}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


async def watch_signals(
    on_signal: Callable[[int], None],
    on_second_sigint: Callable[[], None],
    *,
    task_status: TaskStatus[None] = TASK_STATUS_IGNORED,
) -> None:
    """The run's signal receiver: the first SIGINT/SIGTERM/SIGHUP asks for a graceful
    stop (``on_signal``); a second SIGINT asks to stop at once (``on_second_sigint``)."""
    seen = False
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as signals:
        task_status.started()
        async for signum in signals:
            if not seen:
                seen = True
                log.warning("signal_received", signal=signal.Signals(signum).name)
                on_signal(signum)
            elif signum == signal.SIGINT:
                on_second_sigint()
