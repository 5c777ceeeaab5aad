"""git commands as processes, and async callers that stop them or wait for them.

Each command runs in its own session with a time limit. A cancelled reader
(:meth:`GitCalls.call`) stops the commands of its own call at once: SIGTERM,
so git removes the lock files it holds, then SIGKILL after a grace. A write
that takes git's lock files (``index.lock``, ``HEAD.lock``, ``refs/...lock``)
is never stopped half way by a stop of the run (:meth:`GitCalls.write`): it is
shielded from cancellation and finishes first, unless it runs past
``STOP_WAIT`` seconds after the stop was asked. A git killed between creating
a lock file and arming its own signal handler, or a SIGKILL to the whole
process tree, can still leave a lock: the next run clears what a dead run left
(:mod:`orchestrator.store.git_locks`).
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import math
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import structlog

from orchestrator.errors import GitError
from orchestrator.process.probe import kill_group

T = TypeVar("T")
STOP_WAIT = 10.0  # seconds a git write in progress may still take once a stop is asked

log = structlog.get_logger()


class _TimeLimit:
    """Stops ``proc`` (:func:`kill_group`) once ``seconds`` have passed. Not
    ``communicate(timeout=...)``: with a timeout, the wait for the exit that follows the
    closed pipes polls with growing sleeps (1, 2, 4 ms...), a few milliseconds lost on
    every git command; without one it blocks in ``waitpid``. One watcher thread keeps
    every limit (:class:`_Deadlines`): not a timer thread a command, whose start alone
    costs more than many a git command's run."""

    def __init__(self, proc: subprocess.Popen[bytes], seconds: float) -> None:
        self._proc = proc
        self._lock = threading.Lock()
        self._done = False
        self.expired = False
        self.deadline = time.monotonic() + seconds
        _DEADLINES.add(self)

    @property
    def done(self) -> bool:
        return self._done

    def expire(self) -> None:
        """The limit passed: stop the command, unless it ended first."""
        with self._lock:
            if self._done:
                return
            self.expired = True
        kill_group(self._proc)

    def cancel(self) -> None:
        """The command ended (or its caller gave up): the limit no longer applies."""
        with self._lock:
            self._done = True
        _DEADLINES.cancelled()


class _Deadlines:
    """The time limits of the git commands running, kept by one daemon thread.

    A limit that passes is acted on in a thread of its own (:func:`kill_group` waits a
    grace for git to exit), so one hung git does not delay the limit of another."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _TimeLimit]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._live = 0

    def add(self, limit: _TimeLimit) -> None:
        with self._cond:
            first = not self._heap or limit.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (limit.deadline, next(self._order), limit))
            self._live += 1
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(
                    target=self._watch, name="git-time-limits", daemon=True
                )
                self._thread.start()
            elif first:
                self._cond.notify()

    def cancelled(self) -> None:
        with self._cond:
            self._live -= 1
            if len(self._heap) > 64 and len(self._heap) > 2 * self._live:
                self._heap = [e for e in self._heap if not e[2].done]
                heapq.heapify(self._heap)

    def _watch(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                limit = heapq.heappop(self._heap)[2]
            threading.Thread(target=limit.expire, name="git-stop", daemon=True).start()


_DEADLINES = _Deadlines()


@dataclass
class _Call:
    """The git processes of one async call; once stopped, it starts no more."""

    procs: set[subprocess.Popen[bytes]] = field(default_factory=set)
    stopped: bool = False


_CURRENT: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("git_call", default=None)
_WORKERS = 40  # as many git operations at once as anyio's default thread limiter allows
_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


async def _in_worker(func: Callable[[], T]) -> T:
    """``func()`` on a worker thread, in a copy of the caller's context; a cancelled
    caller stops waiting at once (the thread runs on: its caller stops its git).

    On asyncio, straight through the loop's executor hand-off: anyio's
    ``to_thread.run_sync`` adds a checkpoint and a limiter, about three event-loop turns
    per call, more than some git commands take."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another anyio backend
        return await anyio.to_thread.run_sync(func, abandon_on_cancel=True)
    return await loop.run_in_executor(_workers("git"), contextvars.copy_context().run, func)


def _workers(name: str) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = ThreadPoolExecutor(_WORKERS, thread_name_prefix=name)
        return pool


def side_by_side(func: Callable[[], T]) -> Future[T]:
    """Start ``func()`` on another worker thread, from inside an operation of
    :meth:`GitCalls.call` or :meth:`GitCalls.write`: in a copy of the operation's
    context, so the git commands it starts are stopped with the operation's own. A pool
    of its own: operations waiting for these never hold every thread these need."""
    return _workers("git-side").submit(contextvars.copy_context().run, func)


class GitCalls:
    """Runs git commands for one repository and tracks them per async call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writes: set[anyio.CancelScope] = set()
        self._stop_deadline = math.inf

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: dict[str, str],
        stdin: bytes | None,
        timeout: float,
    ) -> tuple[int, bytes, bytes]:
        """Run one command to its end (or its time limit); exit code, stdout, stderr."""
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        call = _CURRENT.get()
        with self._lock:
            stopped = call is not None and call.stopped
            if call is not None and not stopped:
                call.procs.add(proc)
        words = " ".join(argv[1:4])
        if stopped:  # the caller was cancelled while this one was being started
            kill_group(proc)
            proc.communicate()
            raise GitError(f"`git {words}` was stopped with its cancelled caller")
        limit = _TimeLimit(proc, timeout)
        try:
            out, err = proc.communicate(input=stdin)
        finally:
            limit.cancel()
            if call is not None:
                with self._lock:
                    call.procs.discard(proc)
        if limit.expired:
            raise GitError(
                f"`git {words}` did not finish within {timeout:g}s in {cwd}; it was stopped. "
                "Look for a hung hook or a lock held by another git process, then resume."
            )
        return proc.returncode, out, err

    async def call(self, operation: Callable[..., T], *args: Any) -> T:
        """Run a blocking ``operation`` off the event loop, so signals are handled while
        git works; a cancelled caller stops this call's git processes at once, and the
        operation starts no further git command."""
        call = _Call()

        def in_thread() -> T:
            _CURRENT.set(call)  # the worker runs in a copy of the caller's context
            return operation(*args)

        await anyio.lowlevel.checkpoint_if_cancelled()  # a cancelled caller starts nothing
        try:
            return await _in_worker(in_thread)
        except anyio.get_cancelled_exc_class():
            with self._lock:
                call.stopped = True
                running = list(call.procs)
            for proc in running:
                kill_group(proc)
            raise

    async def write(self, operation: Callable[..., T], *args: Any) -> T:
        """Like :meth:`call`, for an operation that takes git's lock files: once begun, a
        stop lets it finish (up to ``STOP_WAIT`` seconds after :meth:`stopping`) instead
        of killing git inside its transaction. Not begun once a stop was asked."""
        await anyio.lowlevel.checkpoint_if_cancelled()
        scope = anyio.CancelScope(shield=True, deadline=self._stop_deadline)
        self._writes.add(scope)
        try:
            with scope:
                return await self.call(operation, *args)
        finally:
            self._writes.discard(scope)
        # only the stop's deadline gets here: git was stopped, so was the run
        log.warning("git_write_stopped", after_s=STOP_WAIT)
        await anyio.lowlevel.checkpoint()
        raise GitError(f"a git write did not finish within {STOP_WAIT:g}s of the stop")

    def stopping(self, wait: float = STOP_WAIT) -> None:
        """A stop was asked: writes in progress get ``wait`` more seconds (from the
        event loop's thread)."""
        self._stop_deadline = anyio.current_time() + wait
        for scope in self._writes:
            scope.deadline = min(scope.deadline, self._stop_deadline)
        if self._writes:
            log.info("stop_waits_for_git", writes=len(self._writes), at_most_s=wait)
