"""What the loop tells the agent: implement, repair and review prompts.

Built from the milestone's saved state (failing checks with their output, open
findings, a person's answer) and, for the review, the diff since the checkpoint.
The loop (:mod:`orchestrator.milestone.loop`) decides; this module only words it.
"""

from __future__ import annotations

from typing import Literal

from orchestrator.milestone.agent_step import StepContext
from orchestrator.milestone.prompts import render_prompt
from orchestrator.plan.model import Check, Milestone
from orchestrator.store.state import CheckRecord, Finding, StepRecord
from orchestrator.verify.facts import review_facts

DIFF_LIMIT = 30_000


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"  - {line}" for line in lines) or "  - (none)"


def _check_lines(checks: list[Check]) -> str:
    return _bullets([f"{c.id}: `{c.command}`" for c in checks])


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def failing_checks(ctx: StepContext) -> list[CheckRecord]:
    return [c for c in ctx.ms.last_checks if not c.passed]


def _check_report(records: list[CheckRecord]) -> str:
    parts = []
    for c in records:
        status = "PASS" if c.passed else f"FAIL (exit {c.exit_code}, {c.ended})"
        parts.append(f"- {c.check_id} `{c.command}`: {status}")
        if not c.passed and c.output_tail.strip():
            parts.append("  output tail:\n" + _indent(c.output_tail.rstrip()))
    return "\n".join(parts) or "- (no checks)"


def finding_lines(findings: list[Finding]) -> list[str]:
    return [f.line() for f in findings]


def _last_work_step(ctx: StepContext) -> StepRecord | None:
    work = [s for s in ctx.ms.steps if s.kind in ("implement", "repair")]
    return work[-1] if work else None


def answer_note(answer: str) -> str:
    return (
        "A person answered the question that stopped this milestone (it is also in the "
        f"plan's Decision Log): {answer}"
    )


def implement_prompt(
    milestone: Milestone, checks: list[Check], *, plan_rel: str, plan_text: str,
    resume_note: str = "",
) -> str:  # fmt: skip
    """The prompt of a milestone's implement step (also shown by ``run --dry-run``)."""
    return render_prompt(
        "implement",
        milestone=milestone.id,
        attempt="1",
        mode="fresh",
        title=milestone.title,
        plan_path=plan_rel,
        checks=_check_lines(checks),
        resume_note=resume_note,
        plan=plan_text,
    )


def _problems(ctx: StepContext) -> str:
    parts = []
    if ctx.ms.answer:
        parts.append(answer_note(ctx.ms.answer))
    failing = failing_checks(ctx)
    if failing:
        parts.append("Failing validation checks:\n" + _check_report(failing))
    if ctx.ms.findings:
        parts.append("Review findings:\n" + _bullets(finding_lines(ctx.ms.findings)))
    last = _last_work_step(ctx)
    if last is not None and last.answer == "invalid":
        parts.append(
            f"Your last final answer was not valid: {last.summary}. Answer with exactly the "
            "JSON object the output schema describes."
        )
    return "\n\n".join(parts) or "The review did not approve the milestone yet."


async def tree_diff(ctx: StepContext) -> str:
    return await ctx.repo.call(ctx.repo.diff_since, ctx.ms.checkpoint or "HEAD")


async def review_prompt(ctx: StepContext, gate: bool) -> str:
    diff = await tree_diff(ctx)
    if len(diff) > DIFF_LIMIT:
        diff = diff[:DIFF_LIMIT] + f"\n... ({len(diff) - DIFF_LIMIT} more characters)"
    if gate:
        task = (
            "Every validation check passed. Decide whether the milestone is complete and "
            "correct as the plan describes it."
        )
    else:
        task = (
            "Some validation checks failed. Find the causes and list findings that tell the "
            "implementer exactly what to fix (verdict changes_requested, unless a person must "
            "decide)."
        )
    if ctx.ms.answer:
        task += " " + answer_note(ctx.ms.answer)
    return render_prompt(
        "review",
        verification=review_facts(ctx.ms, diff),
        milestone=ctx.milestone.id,
        attempt=str(ctx.ms.attempts + 1),
        mode="gate" if gate else "failure",
        title=ctx.milestone.title,
        plan_path=ctx.plan_rel,
        task=task,
        check_results=_check_report(ctx.ms.last_checks),
        checkpoint=(ctx.ms.checkpoint or "HEAD")[:12],
        diff=diff or "(no change)",
        plan=ctx.keeper.text,
    )


def work_prompt(
    ctx: StepContext, kind: Literal["implement", "repair"], *, round_no: int, mode: str
) -> str:
    """The prompt of an implement or repair step: the plan, the checks, what is still wrong."""
    ms = ctx.ms
    checks = _check_lines(ctx.checks)
    if kind == "implement":
        resume_note = ""
        if ms.steps or ctx.resumed:
            resume_note = (
                "- An earlier attempt at this milestone was interrupted; its work may already "
                "be in the tree. Continue from it.\n"
            )
        if ms.answer:
            resume_note += f"- {answer_note(ms.answer)}\n"
        prompt = implement_prompt(
            ctx.milestone, ctx.checks, plan_rel=ctx.plan_rel, plan_text=ctx.keeper.text,
            resume_note=resume_note,
        )  # fmt: skip
    else:
        plan_block = (
            "" if mode == "resume" else f"\nThe ExecPlan (`{ctx.plan_rel}`):\n\n{ctx.keeper.text}"
        )
        prompt = render_prompt(
            "repair",
            milestone=ctx.milestone.id,
            attempt=str(round_no),
            mode=mode,
            title=ctx.milestone.title,
            problems=_problems(ctx),
            plan_path=ctx.plan_rel,
            checks=checks,
            plan_block=plan_block,
        )
    return prompt
