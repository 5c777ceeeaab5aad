"""Running one codex step of a milestone: files, tokens, guard rails, progress events.

:class:`StepContext` is everything the loop needs about the run it is part of;
:func:`run_codex_step` starts one ``codex exec`` (through the driver), records it
in the milestone state (not yet saved: the caller completes the record and
saves), and checks afterwards that the agent left the plan file alone.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog

from orchestrator.codex.runner import run_step_with_retries
from orchestrator.codex.step import Outcome, StepRequest, StepResult
from orchestrator.milestone.ports import (
    AgentSteps,
    Baseline,
    Validator,
    codex_agent_step,
    shell_validator,
)
from orchestrator.milestone.usage_wait import MAX_WAITS, plan_wait, wait_until
from orchestrator.paths import SCHEMAS_DIR
from orchestrator.plan import write_plan_atomic
from orchestrator.plan.model import Check, Milestone, Service
from orchestrator.process.leftovers import marker_env
from orchestrator.settings.model import Sandbox, Settings
from orchestrator.store.git import Repo
from orchestrator.store.state import MilestoneState, RunState, StepRecord
from orchestrator.ui.events import ProgressEvent

log = structlog.get_logger()

# Directories codex may leave empty in the workspace when a sandboxed command outlives it.
SIDE_EFFECT_DIRS = (".agents", ".aws", ".codex")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class PlanKeeper:
    """The plan file as the orchestrator last wrote it; the only writer during a run."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def write(self, text: str) -> None:
        if text != self.text:
            write_plan_atomic(self.path, text)
        self.text = text

    def check_and_restore(self) -> str | None:
        """None if the file is as we wrote it; else restore it and say what happened."""
        try:
            current = self.path.read_bytes()
        except OSError:
            current = b""
        if current == self.text.encode("utf-8"):
            return None
        write_plan_atomic(self.path, self.text)
        log.warning("plan_edit_reverted", plan=str(self.path))
        return (
            f"the agent edited the plan file {self.path.name} (the orchestrator is its only "
            "writer during a run, and the validation commands are pinned); the edit was "
            "reverted"
        )


async def _unguarded(who: str) -> str | None:
    return None


@dataclass
class StepContext:
    """What a milestone's loop needs from its run."""

    repo: Repo
    run_dir: Path
    plan_rel: str
    keeper: PlanKeeper
    milestone: Milestone
    checks: list[Check]
    settings: Settings
    review_gate: bool
    state: RunState
    ms: MilestoneState
    save: Callable[[], None]
    budget_reason: Callable[[], str | None] = lambda: None
    step_timeout: Callable[[float], float] = lambda default: default
    remaining: Callable[[], float | None] = lambda: None  # what this invocation may still spend
    clock: Callable[[], float] = time.time
    resumed: bool = False  # the milestone had begun in an earlier (killed) process
    # What else must be as the orchestrator left it after a step or a validation (the
    # run's inputs and refs, see orchestrator.guard): restores it and says what changed.
    guard: Callable[[str], Awaitable[str | None]] = _unguarded
    agent: AgentSteps = codex_agent_step
    validator: Validator = shell_validator
    baseline: Baseline | None = None  # runs the checks on the checkpoint before implementing
    services: list[Service] = field(default_factory=list)  # run around the checks

    @property
    def repo_root(self) -> Path:
        return self.repo.root


@dataclass
class StepRun:
    """The result of :func:`run_codex_step`; ``result``/``record`` are None on a budget stop."""

    result: StepResult | None = None
    record: StepRecord | None = None
    budget_reason: str | None = None
    guard_violation: str | None = field(default=None)


def _schema_file(run_dir: Path, schema: Literal["step", "review"]) -> Path:
    name = "step_answer.json" if schema == "step" else "review_answer.json"
    target = run_dir / "schemas" / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCHEMAS_DIR / name, target)
    return target


def _remove_side_dirs(root: Path, existed: set[str]) -> None:
    for name in SIDE_EFFECT_DIRS:
        d = root / name
        if name not in existed and d.is_dir():
            try:
                d.rmdir()  # only when empty
            except OSError:
                log.warning("codex_side_dir_not_empty", path=str(d))


def _thread_tokens_before(state: RunState, thread_id: str | None) -> int:
    if thread_id is None:
        return 0
    return sum(s.tokens for m in state.milestones for s in m.steps if s.thread_id == thread_id)


def answer_path(run_dir: Path, record: StepRecord) -> Path | None:
    """The ``-o`` file of a recorded step."""
    if record.transcript is None:
        return None
    return run_dir / Path(record.transcript).with_suffix(".answer.json")


async def run_codex_step(
    ctx: StepContext,
    *,
    kind: Literal["implement", "review", "repair"],
    attempt: int,
    round_no: int,
    prompt: str,
    sandbox: Sandbox,
    schema: Literal["step", "review"],
    resume_thread: str | None,
) -> StepRun:
    reason = ctx.budget_reason()
    if reason is not None:
        return StepRun(budget_reason=reason)
    number = sum(len(m.steps) for m in ctx.state.milestones) + 1
    stem = f"{number:03d}-{kind}-m{_UNSAFE.sub('_', ctx.milestone.id)}-a{round_no}"
    steps_dir = ctx.run_dir / "steps"
    steps_dir.mkdir(parents=True, exist_ok=True)
    transcript = steps_dir / f"{stem}.jsonl"
    request = StepRequest(
        prompt=prompt,
        cwd=ctx.repo_root,
        sandbox=sandbox,
        resume_thread=resume_thread,
        output_schema=_schema_file(ctx.run_dir, schema),
        transcript=transcript,
        last_message=steps_dir / f"{stem}.answer.json",
        label=f"{kind} m{ctx.milestone.id} a{round_no}",
        env=marker_env(ctx.repo_root),
    )
    codex = ctx.settings.codex
    codex = codex.model_copy(update={"step_timeout": ctx.step_timeout(codex.step_timeout)})
    existed = {n for n in SIDE_EFFECT_DIRS if (ctx.repo_root / n).exists()}
    structlog.contextvars.bind_contextvars(step=kind, attempt=round_no)
    log.info(ProgressEvent.STEP_STARTED, milestone=ctx.milestone.id, step=kind, attempt=round_no)
    started = ctx.clock()
    try:
        result = await run_step_with_retries(request, codex)
        waits = 0
        while result.outcome is Outcome.USAGE_LIMIT and waits < MAX_WAITS:
            remaining = ctx.remaining()
            allowed = ctx.settings.budget.usage_limit_wait if remaining is None else remaining
            wait = plan_wait(result.resets_at, ctx.clock(), allowed)
            if wait is None:
                break
            waits += 1
            await wait_until(ctx.clock() + wait, result.error or "usage limit", clock=ctx.clock)
            codex = ctx.settings.codex
            codex = codex.model_copy(update={"step_timeout": ctx.step_timeout(codex.step_timeout)})
            log.info(ProgressEvent.STEP_STARTED, milestone=ctx.milestone.id, step=kind,
                     attempt=round_no)  # fmt: skip
            result = await run_step_with_retries(request, codex)
    finally:
        _remove_side_dirs(ctx.repo_root, existed)
    thread = result.thread_id or resume_thread
    delta = max(0, result.usage.total - _thread_tokens_before(ctx.state, thread))
    record = StepRecord(
        kind=kind,
        attempt=attempt,
        thread_id=thread,
        outcome=result.outcome,
        transcript=transcript.relative_to(ctx.run_dir).as_posix(),
        started_at=started,
        ended_at=ctx.clock(),
        tokens=delta,
    )
    ctx.ms.steps.append(record)
    ctx.ms.tokens += delta
    ctx.state.tokens_total += delta
    log.info(
        ProgressEvent.STEP_FINISHED,
        step=kind,
        attempt=round_no,
        outcome=result.outcome.value,
        tokens=delta,
        tokens_total=ctx.state.tokens_total,
        duration_s=round(result.duration_s, 3),
        retries=result.retries,
        reason=None if result.outcome is Outcome.OK else result.error,
    )
    return StepRun(
        result=result, record=record, guard_violation=await check_guards(ctx, f"the {kind} step")
    )


async def check_guards(ctx: StepContext, who: str) -> str | None:
    """Restore the plan and whatever the run guards; None if nothing was touched."""
    found = [ctx.keeper.check_and_restore(), await ctx.guard(who)]
    return "\n\n".join(v for v in found if v) or None
