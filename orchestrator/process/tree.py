"""Stopping a child's whole process tree, in steps, leaving no orphan.

The child runs in its own session, so its process group id equals its pid.
Descendants that start their own session (codex runs every command that way)
leave that group; we therefore record descendants while the child runs and
sweep them at the end. ``psutil.Process`` remembers each process's start time,
so a recycled pid is never killed by mistake.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import anyio
import psutil
import structlog
from anyio.abc import Process

log = structlog.get_logger()

TRACK_INTERVAL = 0.2


class ProcessTree:
    """The descendants of one child, recorded while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pgid = pid
        self.known: dict[int, psutil.Process] = {}
        self.stopped = False  # a stop ran to its end: the child exited, the tree was swept

    def snapshot(self) -> None:
        """Record the child's current descendants."""
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return
        for child in children:
            self.known.setdefault(child.pid, child)

    async def track(self) -> None:
        """Record descendants until cancelled."""
        while True:
            await anyio.to_thread.run_sync(self.snapshot)
            await anyio.sleep(TRACK_INTERVAL)

    def _signal_group(self, signo: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signo)

    def _signal_child(self, signo: int) -> None:
        """Signal the child itself with ``os.kill``. Never through ``Popen.send_signal``
        or ``kill``: those poll first, and a poll reaps a child that has just exited
        behind asyncio's back, which then reports exit code 255 instead of the real one.
        (A child keeps its pid until asyncio reaps it, just before ``returncode`` is set.)"""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signo)

    async def stop(
        self, process: Process, grace: float, interrupt_first: bool, in_three: bool = False
    ) -> None:
        """Stop the child (SIGINT or SIGTERM, grace, SIGKILL), then sweep the tree.

        ``in_three``: SIGINT, grace, SIGTERM, grace, SIGKILL, each to the whole group
        (how services are stopped: a server's own SIGINT handler gets its chance first).
        A second stop after one that ran to its end does nothing.
        """
        if self.stopped and process.returncode is not None:
            return
        if process.returncode is None:  # an exited child's descendants are not its any more
            await anyio.to_thread.run_sync(self.snapshot)
        if process.returncode is None and in_three:
            for signo in (signal.SIGINT, signal.SIGTERM):
                if process.returncode is None:
                    log.info("process_stop_signal", pid=self.pid, signal=signo.name)
                    self._signal_group(signo)
                    self._signal_child(signo)
                    with anyio.move_on_after(grace):
                        await process.wait()
        elif process.returncode is None:
            if interrupt_first:
                log.info("process_interrupt", pid=self.pid)
                self._signal_child(signal.SIGINT)
            else:
                log.info("process_terminate", pid=self.pid)
                self._signal_group(signal.SIGTERM)
            with anyio.move_on_after(grace):
                await process.wait()
        if process.returncode is None:
            log.warning("process_kill", pid=self.pid, grace=grace)
            await anyio.to_thread.run_sync(self.snapshot)
            self._signal_group(signal.SIGKILL)
            self._signal_child(signal.SIGKILL)
            await process.wait()
        if self.known:
            await anyio.to_thread.run_sync(self.sweep)
        else:  # nothing recorded to wait for: the group's signal is all there is to send
            self.sweep()
        self.stopped = True

    def sweep(self) -> None:
        """SIGKILL the group and every recorded descendant still running."""
        self._signal_group(signal.SIGKILL)
        alive: list[psutil.Process] = []
        for proc in self.known.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    proc.kill()
                    alive.append(proc)
            except psutil.Error:
                continue
        if alive:
            log.info("process_sweep", pid=self.pid, killed=[p.pid for p in alive])
            wait_gone(alive, timeout=2.0)


def _gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_gone(procs: list[psutil.Process], timeout: float) -> None:
    """Wait until each process is gone or a zombie (an orphan's zombie is init's to reap).

    A SIGKILLed process is not gone when ``kill`` returns: it dies when the kernel next
    runs it, later still on a loaded machine. Whoever must see it gone waits here."""
    deadline = time.monotonic() + timeout
    while any(not _gone(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.01)
