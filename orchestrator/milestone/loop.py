"""One milestone's Implement -> Validate -> Review -> Repair loop.

The loop is a small state machine over ``MilestoneState.phase`` (the last
completed transition). Every transition is saved before the next one starts, so
a resumed run continues exactly where the killed one stopped:

``None`` -> implement -> ``implemented`` -> validate -> ``validated`` -> review ->
``approved`` (done) or ``reviewed`` -> stop tests -> repair -> ``repaired`` ->
validate -> ...

The stop tests read only saved state: the repair budget used since the milestone
(re)started is ``len(fingerprints) - 1`` and the delta is unchanged when the last
two fingerprints are equal. The loop never commits; it returns a
:class:`LoopResult` and the supervisor acts on it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, assert_never

import structlog

from orchestrator.codex.step import Outcome
from orchestrator.milestone.agent_step import StepContext, check_guards
from orchestrator.milestone.answers import ReviewAnswer, StepAnswer, parse_answer
from orchestrator.milestone.asks import (
    failing_checks,
    finding_lines,
    review_prompt,
    tree_diff,
    work_prompt,
)
from orchestrator.milestone.check_programs import cannot_start
from orchestrator.milestone.fingerprint import fingerprint, normalize_output
from orchestrator.milestone.ports import AgentStepRequest
from orchestrator.store.state import CheckRecord, Finding, StepRecord
from orchestrator.ui.events import ProgressEvent
from orchestrator.ui.text import one_line

log = structlog.get_logger()

StopKind = Literal[
    "approved", "needs_human", "gave_up", "budget", "unavailable", "usage_limit", "setup"
]


@dataclass(frozen=True)
class LoopResult:
    """How a milestone's loop ended."""

    kind: StopKind
    reason: str = ""
    question: str | None = None
    resets_at: float | None = None  # usage_limit: when the limit resets, if known


async def _work_step(ctx: StepContext, kind: Literal["implement", "repair"]) -> LoopResult | None:
    """Run an implement or repair step; saves the next phase; returns a stop or None."""
    ms = ctx.ms
    round_no = ms.attempts + 2 if kind == "repair" else 1
    mode = "fresh" if kind == "implement" or not ms.thread_id else "resume"
    prompt = work_prompt(ctx, kind, round_no=round_no, mode=mode)
    request = AgentStepRequest(
        kind=kind,
        attempt=ms.attempts + (1 if kind == "repair" else 0),
        round_no=round_no,
        prompt=prompt,
        sandbox=ctx.settings.codex.sandbox,
        schema="step",
        resume_thread=ms.thread_id if kind == "repair" else None,
    )
    step = await ctx.agent(ctx, request)
    result, record = step.result, step.record
    if result is None or record is None:
        return LoopResult("budget", step.budget_reason or "budget exhausted")
    if result.outcome is Outcome.TRANSIENT:
        return _unavailable(ctx, record, result.error, result.retries)
    if result.outcome is Outcome.USAGE_LIMIT:
        return _usage_limited(ctx, record, result.error, result.resets_at)
    if mode == "resume" and result.outcome is Outcome.PERMANENT and _thread_lost(result.error):
        # e.g. resumed on a machine without the codex session: continue in a new thread
        log.warning("codex_thread_lost", thread_id=ms.thread_id, error=result.error)
        ms.thread_id = None
        ctx.save()
        return await _work_step(ctx, kind)
    if result.thread_id and (kind == "implement" or not ms.thread_id):
        ms.thread_id = result.thread_id
    answer, error = parse_answer(StepAnswer, result.final_message)
    if result.outcome is Outcome.OK and answer is not None:
        record.summary = answer.summary
        record.answer = answer.status
    elif result.outcome is Outcome.OK:
        record.answer = "invalid"
        record.summary = error
        log.warning("step_answer_invalid", step=kind, error=error)
    else:
        record.summary = result.error
    if kind == "repair":
        ms.attempts += 1
    ms.phase = "implemented" if kind == "implement" else "repaired"
    ctx.save()
    if step.guard_violation:
        return LoopResult("needs_human", step.guard_violation)
    if result.outcome is Outcome.PERMANENT:
        return LoopResult(
            "needs_human",
            f"codex failed with a permanent error (auth or configuration): {result.error}",
        )
    if answer is not None and answer.status == "needs_human":
        return LoopResult("needs_human", "the agent asked for a human", answer.question)
    return None


def _usage_limited(
    ctx: StepContext, record: StepRecord, error: str | None, resets_at: float | None
) -> LoopResult:
    """The plan's usage limit, not waited out in this invocation: park the run.

    Not an attempt and not a question for a person: the phase stays where it was, so
    the next `orchestrator run` runs the same step again once the limit has reset.
    """
    record.outcome = Outcome.USAGE_LIMIT
    record.summary = error
    ctx.save()
    when = (
        "resets at " + time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(resets_at))
        if resets_at is not None
        else "reset time not given"
    )
    return LoopResult(
        "usage_limit",
        f"usage limit reached ({when}): {error}; nothing was counted as an attempt, the "
        "next run continues the same step",
        resets_at=resets_at,
    )


def _unavailable(
    ctx: StepContext, record: StepRecord, error: str | None, retries: int
) -> LoopResult:
    """codex kept failing for reasons outside the work (429/5xx, network) after every retry.

    Not an attempt: the phase stays where it was, so `orchestrator resume` runs the
    same step again once the service is back.
    """
    record.outcome = Outcome.TRANSIENT
    record.summary = error
    ctx.save()
    return LoopResult(
        "unavailable",
        f"codex kept failing with transient errors ({retries} retries): {error}; "
        "nothing was counted as an attempt, resume when the service is back",
    )


def _thread_lost(error: str | None) -> bool:
    return "no rollout found" in (error or "")


def _cannot_start(ctx: StepContext, results: Sequence[CheckRecord]) -> LoopResult | None:
    """A failing check whose program could not even start: a setup problem, not a repair."""
    commands = {c.command.strip() for c in ctx.checks}
    prose = "\n".join(ln for ln in ctx.keeper.text.splitlines() if ln.strip() not in commands)
    for r in results:
        if r.passed:
            continue
        if r.ended == "not_found":
            problem: str | None = f"the check shell `{ctx.settings.checks.shell}` was not found"
        else:
            problem = cannot_start(
                r.command, r.exit_code, r.output_tail, ctx.repo_root, os.environ, prose
            )
        if problem is not None:
            tail = r.output_tail.strip()[-600:]
            return LoopResult(
                "setup",
                f"check {r.check_id} `{r.command}` cannot start: {problem} (exit "
                f"{r.exit_code}; output: {tail or 'none'}). Install it or fix PATH or the "
                "check line; no repair round was spent",
            )
    return None


async def _validate(ctx: StepContext) -> LoopResult | None:
    ms = ctx.ms
    round_no = ms.attempts + 1
    log_dir = ctx.run_dir / "checks" / f"m{ctx.milestone.id}-a{round_no}"
    structlog.contextvars.bind_contextvars(step="validate", attempt=round_no)
    log.info(ProgressEvent.CHECKS_STARTED, attempt=round_no, checks=[c.id for c in ctx.checks])
    started = ctx.clock()
    results = await ctx.validator(ctx, log_dir)
    ms.last_checks = [CheckRecord.model_validate(r.model_dump()) for r in results]
    failed = [r.check_id for r in results if not r.passed]
    passed = len(results) - len(failed)
    summary = f"{passed}/{len(results)} passed" + (
        f"; failed: {', '.join(failed)}" if failed else ""
    )
    ms.steps.append(
        StepRecord(
            kind="validate",
            attempt=ms.attempts,
            outcome="passed" if not failed else "failed",
            started_at=started,
            ended_at=ctx.clock(),
            summary=summary,
        )
    )
    stop = _cannot_start(ctx, results)
    if stop is None:
        ms.phase = "validated"  # else validated again when the run continues
    ctx.save()
    log.info(ProgressEvent.CHECKS_FINISHED, attempt=round_no, passed=passed, failed=failed)
    return stop


async def _review(ctx: StepContext) -> LoopResult | None:
    """Review the validated tree; saves ``approved`` or ``reviewed`` (with a fingerprint)."""
    ms = ctx.ms
    all_passed = not failing_checks(ctx)
    answer: ReviewAnswer | None = None
    note: str | None = None
    if ctx.review_gate:
        for _ in range(2):  # one retry when the reviewer's answer is unusable
            request = AgentStepRequest(
                kind="review",
                attempt=ms.attempts,
                round_no=ms.attempts + 1,
                prompt=await review_prompt(ctx, gate=all_passed),
                sandbox="read-only",
                schema="review",
                resume_thread=None,
            )
            step = await ctx.agent(ctx, request)
            result, record = step.result, step.record
            if result is None or record is None:
                return LoopResult("budget", step.budget_reason or "budget exhausted")
            if step.guard_violation:
                ctx.save()
                return LoopResult("needs_human", step.guard_violation)
            if result.outcome is Outcome.TRANSIENT:
                return _unavailable(ctx, record, result.error, result.retries)
            if result.outcome is Outcome.USAGE_LIMIT:
                return _usage_limited(ctx, record, result.error, result.resets_at)
            if result.outcome is Outcome.PERMANENT:
                ctx.save()
                return LoopResult(
                    "needs_human",
                    f"codex failed with a permanent error (auth or configuration): {result.error}",
                )
            answer, note = parse_answer(ReviewAnswer, result.final_message)
            if result.outcome is not Outcome.OK:
                answer, note = None, f"review step ended {result.outcome}: {result.error}"
            ok = result.outcome is Outcome.OK
            record.answer = answer.verdict if answer else ("invalid" if ok else None)
            record.summary = answer.summary if answer else note
            if answer is not None:
                break  # saved below, with the phase it leads to
            ctx.save()
            log.warning("review_answer_invalid", error=note)
    verdict = (
        answer.verdict if answer else ("approve" if all_passed and not ctx.review_gate else "")
    )
    if answer is not None and answer.verdict == "needs_human":
        ms.findings = list(answer.findings)
        _log_verdict(verdict, ms.findings, note)
        ctx.save()
        return LoopResult("needs_human", "the reviewer asked for a human", answer.question)
    unapproved = _unapproved_weakening(ctx, answer)
    if all_passed and verdict == "approve" and not unapproved:
        ms.findings = []
        ms.phase = "approved"
        _log_verdict(verdict, ms.findings, note)
        ctx.save()
        return None
    findings = list(answer.findings) if answer else []
    if answer is None and ctx.review_gate:
        message = f"the review gave no usable verdict: {note}"
        findings.append(Finding(severity="major", path=None, message=message))
    if all_passed and verdict == "approve" and unapproved:
        findings.append(Finding(severity="blocker", path=None, message=unapproved))
    if all_passed and answer is not None and not findings:
        findings.append(Finding(severity="major", path=None, message=answer.summary))
    ms.findings = findings
    _log_verdict(verdict, ms.findings, note)
    ms.fingerprints.append(await _fingerprint(ctx))
    ms.phase = "reviewed"
    ctx.save()
    return None


def _unapproved_weakening(ctx: StepContext, answer: ReviewAnswer | None) -> str | None:
    """The plan lets the milestone change tests, the analysis found weakening, and the
    reviewer did not approve it explicitly: why the milestone cannot pass yet."""
    facts = ctx.ms.verify
    if facts is None or not facts.weakening or not facts.tests_may_change:
        return None
    if answer is not None and answer.weakening_approved:
        return None
    return (
        "the weakening analysis found changes that weaken the tests ("
        + "; ".join(facts.weakening)
        + ") and the review did not approve them explicitly"
    )


def _log_verdict(verdict: str, findings: list[Finding], note: str | None) -> None:
    """The review's outcome with the findings the repair gets (as the report lists them)."""
    log.info(
        ProgressEvent.REVIEW_VERDICT,
        verdict=verdict or "invalid",
        findings=len(findings),
        **({"problem": note} if not verdict and note else {}),
    )


async def _fingerprint(ctx: StepContext) -> str:
    failing = [f"{c.check_id}\n{normalize_output(c.output_tail)}" for c in failing_checks(ctx)]
    return fingerprint(
        await tree_diff(ctx),
        "\n".join(failing),
        "\n".join(sorted(finding_lines(ctx.ms.findings))),
    )


def _still_open(ctx: StepContext) -> str:
    """What keeps repeating, for the stop reason: failing checks, else the open findings."""
    failing = [c.check_id for c in failing_checks(ctx)]
    if failing:
        return f"; still failing: {', '.join(failing)}"
    if ctx.ms.findings:
        first = one_line(ctx.ms.findings[0].message, 300)
        more = len(ctx.ms.findings) - 1
        return f"; still open: {first}" + (f" (and {more} more findings)" if more else "")
    return ""


def _stop_test(ctx: StepContext) -> LoopResult | None:
    fps = ctx.ms.fingerprints
    if len(fps) >= 2 and fps[-1] == fps[-2]:
        return LoopResult(
            "gave_up",
            "stalled: the remaining delta did not change after a repair" + _still_open(ctx),
        )
    used = len(fps) - 1
    if used >= ctx.settings.loop.max_attempts:
        return LoopResult(
            "gave_up", f"max attempts: {used} repairs used and the milestone still fails"
        )
    return None


async def run_milestone(ctx: StepContext) -> LoopResult:
    """Drive one milestone from its saved phase to a stop."""
    ms = ctx.ms
    while True:
        if ms.phase in ("approved", "committed"):
            return LoopResult("approved")  # committing costs no budget
        reason = ctx.budget_reason()
        if reason is not None:
            return LoopResult("budget", reason)
        stop: LoopResult | None = None
        match ms.phase:
            case None | "started":
                if ctx.baseline is not None:
                    question = await ctx.baseline(ctx)
                    if question is not None:
                        return LoopResult("needs_human", question)
                stop = await _work_step(ctx, "implement")
            case "implemented" | "repaired":
                stop = await _validate(ctx)
                violation = await check_guards(ctx, "a validation check")
                if violation:
                    return LoopResult("needs_human", violation)
            case "validated":
                stop = await _review(ctx)
            case "reviewed":
                stop = _stop_test(ctx) or await _work_step(ctx, "repair")
            case "approved" | "committed":
                return LoopResult("approved")
            case unknown:
                assert_never(unknown)
        if stop is not None:
            return stop
