"""The loop's two doors to the outside: run an agent step, validate the tree.

:func:`~orchestrator.milestone.loop.run_milestone` decides (stops, attempts,
fingerprints); it reaches codex and the checks only through these two
callables on its :class:`~orchestrator.milestone.agent_step.StepContext`. The
run wires in the real ones (:func:`codex_agent_step`, :func:`shell_validator`);
unit tests wire in small fakes and drive every decision without a process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from orchestrator.settings.model import Sandbox
from orchestrator.store.state import CheckRecord

if TYPE_CHECKING:
    from orchestrator.milestone.agent_step import StepContext, StepRun


@dataclass(frozen=True)
class AgentStepRequest:
    """One agent step the loop asks for."""

    kind: Literal["implement", "review", "repair"]
    attempt: int
    round_no: int
    prompt: str
    sandbox: Sandbox
    schema: Literal["step", "review"]
    resume_thread: str | None


class AgentSteps(Protocol):
    """Runs one agent step and records it in ``ctx.ms`` (the caller saves)."""

    async def __call__(self, ctx: StepContext, request: AgentStepRequest) -> StepRun: ...


class Validator(Protocol):
    """Runs the milestone's checks over the tree; results in the order of ``ctx.checks``."""

    async def __call__(self, ctx: StepContext, log_dir: Path) -> Sequence[CheckRecord]: ...


class Baseline(Protocol):
    """Runs the milestone's checks on its checkpoint once, before the first step.

    Returns why a human must decide (e.g. every check already passes and the run
    requires red first), or None to go on.
    """

    async def __call__(self, ctx: StepContext) -> str | None: ...


async def codex_agent_step(ctx: StepContext, request: AgentStepRequest) -> StepRun:
    """The real agent: one ``codex exec`` through the driver."""
    from orchestrator.milestone.agent_step import run_codex_step

    return await run_codex_step(
        ctx,
        kind=request.kind,
        attempt=request.attempt,
        round_no=request.round_no,
        prompt=request.prompt,
        sandbox=request.sandbox,
        schema=request.schema,
        resume_thread=request.resume_thread,
    )


async def shell_validator(ctx: StepContext, log_dir: Path) -> Sequence[CheckRecord]:
    """The real validator: each check command run by the orchestrator itself."""
    from orchestrator.milestone.services import not_run, services_up
    from orchestrator.milestone.validation import run_checks

    cwd, shell = ctx.repo_root, ctx.settings.checks.shell
    async with services_up(ctx.services, cwd=cwd, shell=shell, log_dir=log_dir) as down:
        if down:
            return not_run(ctx.checks, down)
        results = await run_checks(
            ctx.checks, cwd=cwd, settings=ctx.settings.checks, log_dir=log_dir
        )
        return [CheckRecord.model_validate(r.model_dump()) for r in results]
