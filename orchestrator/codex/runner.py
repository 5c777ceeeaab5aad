"""Running one ``codex exec`` step: argv, the supervised process, the typed result.

:func:`run_step` is one invocation; :func:`run_step_with_retries` retries
transient outcomes (continuing the thread with ``resume`` once one exists).
Neither raises for anything the child does; anyio cancellation propagates
after the child's process tree is dead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import structlog

from orchestrator.codex.argv import build_argv, stdin_bytes
from orchestrator.codex.classify import classify
from orchestrator.codex.collect import EventCollector
from orchestrator.codex.liveness import Liveness
from orchestrator.codex.rollout import codex_home
from orchestrator.codex.step import Outcome, StepRequest, StepResult, Usage
from orchestrator.codex.usage_limit import retry_after_stall, usage_limit
from orchestrator.process.child import ProcessRequest, run_process
from orchestrator.redact import Redactor
from orchestrator.retry import transient_policy
from orchestrator.settings.durations import format_duration
from orchestrator.settings.model import CodexSettings

log = structlog.get_logger()


def _scrub(path: Path, env: Mapping[str, str] | None) -> None:
    """Redact the ``-o`` file codex wrote: it is kept in the run directory."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    clean = Redactor.from_env(env)(text)
    if clean != text:
        path.write_text(clean, encoding="utf-8")


async def run_step(request: StepRequest, settings: CodexSettings) -> StepResult:
    """One ``codex exec`` invocation, no retries."""
    if request.last_message is not None:
        request.last_message.unlink(missing_ok=True)
    env = {**os.environ, **request.env} if request.env else None
    collector = EventCollector()
    liveness = Liveness(
        stall_timeout=settings.stall_timeout,
        command_timeout=settings.command_timeout,
        codex_home=codex_home(env if env is not None else os.environ),
    )

    def on_line(line: str) -> None:
        event = collector.feed(line)
        if event is not None:
            liveness.saw(event)

    proc = await run_process(
        ProcessRequest(
            argv=build_argv(request, settings),
            cwd=request.cwd,
            env=env,
            stdin=stdin_bytes(request),
            timeout=settings.step_timeout,
            kill_grace=settings.kill_grace,
            interrupt_first=True,
            transcript=request.transcript,
            max_line_bytes=settings.max_line_bytes,
        ),
        on_line,
        liveness,
    )
    if request.last_message is not None:
        _scrub(request.last_message, env)
    if proc.ended == "timeout" and liveness.verdict is None:
        limit = format_duration(settings.step_timeout)
        why = f"no result within the step's wall-clock limit ({limit}: codex.step_timeout,"
        why += " or what the run's budget had left)"
        proc = proc.model_copy(update={"reason": why})
    outcome, reason = classify(
        proc,
        completed=collector.completed,
        failed_message=collector.failed_message,
        failure_text=collector.failure_text(),
    )
    hit = None
    if outcome in (Outcome.TRANSIENT, Outcome.PERMANENT):
        hit = usage_limit(collector.failure_text(), time.time())
    elif outcome in (Outcome.STALLED, Outcome.TIMEOUT):
        hit = retry_after_stall(list(collector.errors))
    if hit is not None:
        outcome, reason = Outcome.USAGE_LIMIT, hit.message
    final = collector.final_message if outcome is Outcome.OK else None
    usage = Usage.model_validate(collector.usage.model_dump()) if collector.usage else Usage()
    result = StepResult(
        resets_at=hit.resets_at if hit is not None else None,
        outcome=outcome,
        exit_code=proc.exit_code,
        thread_id=collector.thread_id,
        final_message=final,
        usage=usage,
        commands=collector.commands,
        error=reason,
        started_at=proc.started_at,
        duration_s=proc.duration_s,
        pid=proc.pid,
        transcript=request.transcript,
    )
    log.info(
        "codex_step_result",
        label=request.label,
        outcome=outcome.value,
        exit_code=proc.exit_code,
        thread_id=result.thread_id,
        error=reason,
        events=collector.events,
        malformed=collector.malformed,
        duration_s=round(proc.duration_s, 3),
    )
    return result


async def run_step_with_retries(
    request: StepRequest,
    settings: CodexSettings,
    *,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> StepResult:
    """Run a step, retrying transient outcomes with backoff; sets ``StepResult.retries``.

    A retry of a step that already has a thread id resumes that thread.
    """
    thread = request.resume_thread
    attempts = 0

    async def attempt() -> StepResult:
        nonlocal thread, attempts
        attempts += 1
        current = request
        if thread != request.resume_thread:
            current = request.model_copy(update={"resume_thread": thread})
        result = await run_step(current, settings)
        thread = result.thread_id or thread
        return result

    policy = transient_policy(
        retries=settings.retries,
        max_time=settings.retry_max_time,
        initial_wait=settings.retry_initial_wait,
        max_wait=settings.retry_max_wait,
        is_transient=lambda r: isinstance(r, StepResult) and r.outcome is Outcome.TRANSIENT,
        reason=lambda r: (r.error or r.outcome.value) if isinstance(r, StepResult) else "?",
        sleep=sleep,
    )
    result: StepResult = await policy(attempt)
    return result.model_copy(update={"retries": attempts - 1})
