"""How the event loop learns that a child exited: a pidfd it polls, not a thread a child.

Python 3.11's asyncio waits for each child in a thread of its own (its default
``ThreadedChildWatcher``), started, and waited for to start, with every process:
a thread start costs more than many of the short checks it watches. Linux (5.3+)
gives a file descriptor for a process that becomes readable when it exits; the
event loop polls it like a pipe and reaps the child then, as Python 3.12 does by
default. :func:`use_pidfd_exits` installs that on 3.11 where the kernel offers
it; elsewhere (3.12+, other systems, a kernel without pidfds) asyncio keeps its
own. A child whose pidfd cannot be opened (out of descriptors) is waited for by a
thread, as before.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVarTuple

import structlog

log = structlog.get_logger()

_decided = False
_Ts = TypeVarTuple("_Ts")


class PidfdExits(asyncio.AbstractChildWatcher):
    """Reaps each child when its pidfd turns readable, on whichever loop started it."""

    def __init__(self) -> None:
        self._fallback = asyncio.ThreadedChildWatcher()

    def add_child_handler(
        self, pid: int, callback: Callable[[int, int, *_Ts], object], *args: *_Ts
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            self._fallback.add_child_handler(pid, callback, *args)
            return
        loop.add_reader(pidfd, self._reap, loop, pid, pidfd, callback, args)

    def _reap(
        self,
        loop: asyncio.AbstractEventLoop,
        pid: int,
        pidfd: int,
        callback: Callable[..., object],
        args: tuple[Any, ...],
    ) -> None:
        loop.remove_reader(pidfd)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped elsewhere: asyncio's own convention
            returncode = 255
            log.warning("child_exit_status_lost", pid=pid)
        else:
            returncode = os.waitstatus_to_exitcode(status)
        finally:
            os.close(pidfd)
        callback(pid, returncode, *args)

    def remove_child_handler(self, pid: int) -> bool:
        return self._fallback.remove_child_handler(pid)  # asyncio itself never calls it

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        pass  # each child is watched on the loop that started it

    def close(self) -> None:
        self._fallback.close()

    def is_active(self) -> bool:
        return True

    def __enter__(self) -> PidfdExits:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _pidfds_work() -> bool:
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True


def use_pidfd_exits() -> None:
    """On Python 3.11 with pidfds, let asyncio watch children through them (once)."""
    global _decided
    if _decided:
        return
    _decided = True
    if sys.version_info >= (3, 12) or sys.platform != "linux" or not _pidfds_work():
        return  # 3.12+ uses pidfds by itself where it can; elsewhere asyncio's own
    policy = asyncio.get_event_loop_policy()
    if type(policy) is asyncio.DefaultEventLoopPolicy:  # not someone else's policy
        policy.set_child_watcher(PidfdExits())
