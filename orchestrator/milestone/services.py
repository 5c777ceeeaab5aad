"""Services the checks need: started before them, stopped after, output kept.

Each service runs through the process layer like a check (its own session and
process group, stderr merged into stdout, a redacted log), but in the
background: we wait until it is ready (a TCP port on 127.0.0.1 accepts, a
loopback URL answers below 500, or a line of its output contains a text), with
a timeout, then the checks run, then the service is stopped with SIGINT,
SIGTERM and SIGKILL to its whole group. A service that exits or does not get
ready in time fails the round with its own record; the checks then do not run.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import structlog
from anyio.abc import TaskGroup

from orchestrator.milestone.validation import check_argv, log_file
from orchestrator.plan.model import Check, Service
from orchestrator.process.child import ProcessOutcome, ProcessRequest, run_process
from orchestrator.store.state import CheckRecord

log = structlog.get_logger()

POLL = 0.1
STOP_GRACE = 5.0
_TAIL = 2000


class _Started:
    def __init__(self, service: Service, transcript: Path) -> None:
        self.service = service
        self.transcript = transcript
        self.exited = anyio.Event()
        self.logged = anyio.Event()
        self.outcome: ProcessOutcome | None = None
        kind, _, value = service.ready.partition(" ")
        self.kind = kind.casefold()
        self.value = value.strip()

    def on_line(self, line: str) -> None:
        if self.kind == "log" and self.value in line:
            self.logged.set()

    async def run(self, cwd: Path, shell: str) -> None:
        self.outcome = await run_process(
            ProcessRequest(
                argv=check_argv(self.service.command, shell),
                cwd=cwd,
                transcript=self.transcript,
                kill_grace=STOP_GRACE,
                stop_in_three=True,
            ),
            on_line=self.on_line,
        )
        self.exited.set()

    async def ready(self) -> bool:
        if self.kind == "log":
            return self.logged.is_set()
        if self.kind == "port":
            try:
                stream = await anyio.connect_tcp("127.0.0.1", int(self.value))
            except OSError:
                return False
            await stream.aclose()
            return True
        return await anyio.to_thread.run_sync(_answers, self.value)

    def output(self) -> str:
        try:
            text = self.transcript.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text[-_TAIL:]


def _answers(url: str) -> bool:
    import urllib.error  # only a plan with an HTTP service needs it: not at every start-up
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1.0) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


def _failed(started: _Started, why: str, begin: float) -> CheckRecord:
    svc = started.service
    note = f"service {svc.id} ({svc.command}) {why}"
    return CheckRecord(
        check_id=svc.id,
        command=svc.command,
        exit_code=started.outcome.exit_code if started.outcome else None,
        passed=False,
        ended="exited" if started.exited.is_set() else "timeout",
        duration_s=time.monotonic() - begin,
        output_tail=f"{started.output()}\n[{note}]".lstrip("\n"),
        notes=[note],
    )


async def _start(tg: TaskGroup, started: _Started, cwd: Path, shell: str) -> CheckRecord | None:
    """Start one service and wait until it is ready; a failure record otherwise."""
    svc = started.service
    begin = time.monotonic()
    log.info("service_starting", service=svc.id, ready=svc.ready, timeout=svc.timeout)
    tg.start_soon(started.run, cwd, shell)
    while time.monotonic() - begin < svc.timeout:
        if await started.ready():
            log.info("service_ready", service=svc.id, after_s=round(time.monotonic() - begin, 3))
            return None
        if started.exited.is_set():
            code = started.outcome.exit_code if started.outcome else None
            return _failed(started, f"exited (code {code}) before it was ready", begin)
        with anyio.move_on_after(POLL):
            await started.exited.wait()
    return _failed(started, f"was not ready ({svc.ready}) within {svc.timeout:g}s", begin)


@asynccontextmanager
async def services_up(
    services: Sequence[Service], *, cwd: Path, shell: str, log_dir: Path | None
) -> AsyncIterator[list[CheckRecord]]:
    """Run ``services`` around the body; yields the failure records (empty: all ready)."""
    if not services:
        yield []
        return
    where = log_dir or Path(tempfile.gettempdir()) / f"orchestrator-services-{os.getpid()}"
    failures: list[CheckRecord] = []
    async with anyio.create_task_group() as tg:
        try:
            for svc in services:
                transcript = log_file(where, svc.id)
                transcript.parent.mkdir(parents=True, exist_ok=True)
                transcript.write_text(f"$ {svc.command}\n", encoding="utf-8")
                failure = await _start(tg, _Started(svc, transcript), cwd, shell)
                if failure is not None:
                    failures.append(failure)
                    break
            yield failures
        finally:
            tg.cancel_scope.cancel()
    log.info("services_stopped", services=[s.id for s in services])


def not_run(checks: Sequence[Check], failures: Sequence[CheckRecord]) -> list[CheckRecord]:
    """Records for checks skipped because a service did not start, then the failures."""
    why = "; ".join(f.notes[0] for f in failures if f.notes)
    skipped = [
        CheckRecord(
            check_id=c.id,
            command=c.command,
            exit_code=None,
            passed=False,
            ended="cancelled",
            duration_s=0.0,
            output_tail=f"[not run: {why}]",
            notes=[f"not run: {why}"],
        )
        for c in checks
    ]
    return [*skipped, *failures]
