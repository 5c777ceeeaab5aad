"""Where supervised child processes start: a request in, an outcome out.

Every child runs in its own session (so its process group can be signalled
without touching us), with stdin closed or fed from bytes, stdout read line by
line with a per-line cap, stderr kept in a bounded ring buffer, and both
appended (redacted) to an optional transcript file. Memory stays bounded
whatever the child prints.

A run ends when the child exits, or when our wall-clock (``timeout``) or
inactivity limit passes, or when the caller cancels us. Inactivity is either
the simple ``stall_timeout`` (no stdout bytes for that long) or, for a child
whose work is not all on stdout, a :class:`Watchdog` the caller passes: it is
consulted every ``interval`` seconds and may end the run with a reason (codex's
lives in :mod:`orchestrator.codex.liveness`). In every case the whole process tree is stopped
in steps (see :mod:`orchestrator.process.tree`) before we return or re-raise, so
no orphan survives: descendants are recorded while the child runs because a
command started in its own session leaves the child's process group.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Literal, Protocol

import anyio
import structlog
from anyio.abc import ByteReceiveStream, Process
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.process import Ended
from orchestrator.process.exits import use_pidfd_exits
from orchestrator.process.tree import ProcessTree
from orchestrator.redact import Redactor

log = structlog.get_logger()

_CHUNK = 65536


class Verdict(BaseModel):
    """A watchdog's decision to end a run, and why (one line for people)."""

    model_config = ConfigDict(frozen=True)

    ended: Literal["stalled", "timeout"]
    reason: str


class Watchdog(Protocol):
    """Decides whether a child that looks quiet is still working."""

    @property
    def interval(self) -> float:
        """Seconds between two consultations."""
        ...

    def check(self, now: float, last_output: float) -> Verdict | None:
        """None while the child is alive; a verdict ends the run.

        ``now`` and ``last_output`` (the last stdout bytes) are ``time.monotonic()`` values.
        """
        ...


class ProcessRequest(BaseModel):
    """What to run and under which limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    argv: list[str]
    cwd: Path
    env: dict[str, str] | None = Field(
        None, description="the FULL environment; None inherits os.environ"
    )
    stdin: bytes | None = Field(None, description="bytes fed to stdin, then closed; None=/dev/null")
    timeout: float | None = Field(None, description="wall-clock limit, seconds")
    stall_timeout: float | None = Field(None, description="no stdout for this long ends the run")
    kill_grace: float = Field(5.0, ge=0, description="seconds between stop signals")
    interrupt_first: bool = Field(False, description="SIGINT before SIGKILL (codex wants this)")
    stop_in_three: bool = Field(
        False, description="SIGINT, SIGTERM, then SIGKILL to the whole group (services)"
    )
    transcript: Path | None = Field(None, description="raw stdout+stderr appended, redacted")
    tail_bytes: int = Field(8192, gt=0, description="bytes of stdout/stderr kept in the outcome")
    max_line_bytes: int = Field(1_048_576, gt=0, description="longer stdout lines are truncated")
    label: str | None = Field(
        None, description="logged instead of the argv (a command that must stay hidden)"
    )


class ProcessOutcome(BaseModel):
    """How a child run ended."""

    argv: list[str]
    pid: int | None
    exit_code: int | None = Field(description="None when killed by a signal or never started")
    ended: Ended
    started_at: float = Field(description="unix time")
    duration_s: float
    stdout_tail: str = Field(description="last tail_bytes of stdout, redacted")
    stderr_tail: str = Field(description="last tail_bytes of stderr, redacted")
    signal: int | None = Field(None, description="signal that ended the child, if any")
    reason: str | None = Field(None, description="why a limit ended the run, for people")


class _Tail:
    """The last ``size`` bytes of a stream."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.size * 2:
            del self.data[: len(self.data) - self.size]

    def text(self, redact: Redactor) -> str:
        return redact(bytes(self.data[-self.size :]).decode("utf-8", "replace"))


class _Run:
    """Mutable state of one supervised child."""

    def __init__(
        self,
        request: ProcessRequest,
        on_line: Callable[[str], None] | None,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.request = request
        self.on_line = on_line
        self.watchdog = watchdog
        self.reason: str | None = None
        self.last_activity = time.monotonic()
        self.out_tail = _Tail(request.tail_bytes)
        self.err_tail = _Tail(request.tail_bytes)
        source = request.env if request.env is not None else os.environ
        self.redact = Redactor.from_env(source)
        self.transcript: IO[str] | None = None
        self.exited = anyio.Event()
        self.stdout_done = anyio.Event()

    def close_transcript(self) -> None:
        if self.transcript is not None:
            self.transcript.close()

    def write(self, text: str) -> None:
        if self.transcript is not None:
            self.transcript.write(self.redact(text))

    async def pump_stdout(self, stream: ByteReceiveStream) -> None:
        """Split stdout into lines; a line longer than the cap is truncated in memory
        and streamed to the transcript piece by piece."""
        cap = self.request.max_line_bytes
        line = bytearray()
        overflow = False
        try:
            async for chunk in stream:
                self.last_activity = time.monotonic()
                self.out_tail.add(chunk)
                start = 0
                while True:
                    nl = chunk.find(b"\n", start)
                    piece = chunk[start:] if nl < 0 else chunk[start:nl]
                    if overflow:
                        self._write_bytes(piece)
                    elif len(line) + len(piece) > cap:
                        self._write_bytes(bytes(line) + piece)
                        line += piece[: cap - len(line)]
                        overflow = True
                    else:
                        line += piece
                    if nl < 0:
                        break
                    if not overflow:
                        self._write_bytes(bytes(line))
                    self.write("\n")
                    self._emit(line, overflow)
                    line = bytearray()
                    overflow = False
                    start = nl + 1
            if line:
                if not overflow:
                    self._write_bytes(bytes(line))
                self.write("\n")
                self._emit(line, overflow)
        finally:
            self.stdout_done.set()

    def _write_bytes(self, data: bytes) -> None:
        if self.transcript is not None and data:
            self.write(data.decode("utf-8", "replace"))

    def _emit(self, line: bytearray, overflow: bool) -> None:
        if overflow:
            log.warning("process_line_truncated", pid_argv0=self.request.argv[0], kept=len(line))
        if self.on_line is not None:
            self.on_line(line.decode("utf-8", "replace"))

    async def pump_stderr(self, stream: ByteReceiveStream) -> None:
        pending = b""
        async for chunk in stream:
            self.err_tail.add(chunk)
            data = pending + chunk
            head, sep, pending = data.rpartition(b"\n")
            if sep:
                for part in head.split(b"\n"):
                    self.write("[stderr] " + part.decode("utf-8", "replace") + "\n")
            if len(pending) > _CHUNK:
                self.write("[stderr] " + pending.decode("utf-8", "replace") + "\n")
                pending = b""
        if pending:
            self.write("[stderr] " + pending.decode("utf-8", "replace") + "\n")

    async def wait_exit(self, process: Process) -> None:
        await process.wait()
        self.exited.set()

    async def watch(self) -> Ended:
        """Wait for the child to exit or for a limit to pass."""
        request = self.request
        begin = time.monotonic()
        while True:
            now = time.monotonic()
            deadlines = []
            if request.timeout is not None:
                deadlines.append(begin + request.timeout)
            if request.stall_timeout is not None:
                deadlines.append(self.last_activity + request.stall_timeout)
            if self.watchdog is not None:
                deadlines.append(now + self.watchdog.interval)
            wait = max(0.0, min(deadlines) - now) if deadlines else None
            with anyio.move_on_after(wait):
                await self.exited.wait()
                return "exited"
            now = time.monotonic()
            if request.timeout is not None and now >= begin + request.timeout:
                self.reason = f"the wall-clock limit ({request.timeout:g}s) passed"
                return "timeout"
            if (
                request.stall_timeout is not None
                and now >= self.last_activity + request.stall_timeout
            ):
                self.reason = f"no output for {now - self.last_activity:.0f}s"
                return "stalled"
            verdict = self.watchdog.check(now, self.last_activity) if self.watchdog else None
            if verdict is not None:
                self.reason = verdict.reason
                return verdict.ended


async def _feed(process: Process, data: bytes) -> None:
    assert process.stdin is not None
    try:
        await process.stdin.send(data)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    finally:
        await process.stdin.aclose()


async def run_process(
    request: ProcessRequest,
    on_line: Callable[[str], None] | None = None,
    watchdog: Watchdog | None = None,
) -> ProcessOutcome:
    """Run one child under limits; kill its whole tree before returning or re-raising.

    ``watchdog``, if given, is consulted while the child runs and may end it.
    """
    started_at = time.time()
    begin = time.monotonic()
    run = _Run(request, on_line, watchdog)
    # The transcript opens before the child starts: an OSError here starts nothing.
    if request.transcript is not None:
        request.transcript.parent.mkdir(parents=True, exist_ok=True)
        run.transcript = request.transcript.open("a", encoding="utf-8", errors="replace")
    use_pidfd_exits()
    try:
        process = await anyio.open_process(
            request.argv,
            stdin=subprocess.PIPE if request.stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=request.cwd,
            env=request.env,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        run.close_transcript()
        log.info("process_not_found", argv0=request.argv[0] if request.argv else "", error=str(exc))
        return ProcessOutcome(
            argv=request.argv,
            pid=None,
            exit_code=None,
            ended="not_found",
            started_at=started_at,
            duration_s=time.monotonic() - begin,
            stdout_tail="",
            stderr_tail=run.redact(str(exc)),
            signal=None,
        )
    tree = ProcessTree(process.pid)
    ended: Ended = "cancelled"
    try:
        async with anyio.create_task_group() as tg:
            assert process.stdout is not None
            assert process.stderr is not None
            tg.start_soon(run.pump_stdout, process.stdout)
            tg.start_soon(run.pump_stderr, process.stderr)
            tg.start_soon(run.wait_exit, process)
            tg.start_soon(tree.track)
            if request.stdin is not None:
                tg.start_soon(_feed, process, request.stdin)
            ended = await run.watch()
            with anyio.CancelScope(shield=True):
                await tree.stop(
                    process, request.kill_grace, request.interrupt_first, request.stop_in_three
                )
                with anyio.move_on_after(2.0):
                    await run.stdout_done.wait()
            tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await tree.stop(
                process, request.kill_grace, request.interrupt_first, request.stop_in_three
            )
            run.close_transcript()
            for stream in (process.stdout, process.stderr, process.stdin):
                if stream is not None:
                    await stream.aclose()
    rc = process.returncode
    signal_no = -rc if rc is not None and rc < 0 else None
    if ended == "exited" and signal_no is not None:
        ended = "signalled"
    outcome = ProcessOutcome(
        argv=request.argv,
        pid=process.pid,
        exit_code=rc if rc is not None and rc >= 0 else None,
        ended=ended,
        started_at=started_at,
        duration_s=time.monotonic() - begin,
        stdout_tail=run.out_tail.text(run.redact),
        stderr_tail=run.err_tail.text(run.redact),
        signal=signal_no,
        reason=run.reason if ended in ("stalled", "timeout") else None,
    )
    log.info(
        "process_finished",
        argv=[request.label] if request.label else [run.redact(a) for a in request.argv[:8]],
        pid=outcome.pid,
        ended=outcome.ended,
        exit_code=outcome.exit_code,
        signal=outcome.signal,
        duration_s=round(outcome.duration_s, 3),
        reason=outcome.reason,
    )
    return outcome
