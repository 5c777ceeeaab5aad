"""One run: the plan's milestones in order, commits, the end of the run, signals.

:class:`Runner` owns the run state once the supervisor has created or loaded it.
A milestone is done when its commit is recorded (in the state, or by the ref
written with it) and in HEAD's history (see :mod:`orchestrator.guard.history`);
after every codex step and validation the run's guards put back what the agent
or a check must not change.
"""

from __future__ import annotations

import functools
import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import structlog

from orchestrator.errors import ExitCode
from orchestrator.guard.history import lost_commits, publish_commit, record_ref, settle_recorded
from orchestrator.guard.run_guard import RunGuard
from orchestrator.milestone.agent_step import PlanKeeper, StepContext
from orchestrator.milestone.loop import LoopResult, run_milestone
from orchestrator.plan import (
    read_plan_text,
)
from orchestrator.plan.model import ExecPlan
from orchestrator.process.leftovers import reap_leftovers
from orchestrator.run.budget import start_invocation
from orchestrator.run.hooks import HookEvent, HookPayload, fire_hook
from orchestrator.run.outcomes import commit_outcomes
from orchestrator.run.pinned import checks_for, review_gate_for, services_for
from orchestrator.run.record import milestone_passed_text, step_answers
from orchestrator.run.signals import SIGNAL_EXIT, watch_signals
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.state import MilestoneState, RunState, RunStatus, state_path
from orchestrator.store.state_writer import StateWriter
from orchestrator.ui.events import ProgressEvent
from orchestrator.ui.report import write_needs_human, write_report
from orchestrator.verify.validator import Verifier

log = structlog.get_logger()

# Stops that park the run: loop stop kind -> run status, exit code, log event, hook.
_PARKED: dict[str, tuple[RunStatus, ExitCode, str, HookEvent]] = {
    "unavailable": ("unavailable", ExitCode.GAVE_UP, "codex_unavailable", "gave_up"),
    "usage_limit": ("usage_limit", ExitCode.GAVE_UP, "usage_limit_parked", "usage_limit"),
    "setup": ("setup", ExitCode.USAGE, "check_cannot_start", "gave_up"),
}


@dataclass
class RunEnd:
    status: RunStatus
    exit_code: int
    reason: str | None = None
    question: str | None = None
    report: Path | None = None


class Runner:
    """Runs the milestones of one plan for one run state."""

    _OUTLIVED = "a process that outlived its step or check"

    def __init__(
        self,
        *,
        repo: Repo,
        state: RunState,
        plan: ExecPlan,
        plan_text: str,
        plan_path: Path,
        settings: Settings,
        started_at: float,
        config_file: Path | None = None,
    ) -> None:
        self.repo = repo
        self.state = state
        self.plan = plan
        self.keeper = PlanKeeper(plan_path, plan_text)
        self.writer = StateWriter(state_path(repo.root, state.run_id))
        self.guard = RunGuard(
            repo,
            settings,
            run_id=state.run_id,
            plan_rel=state.plan_path,
            config_file=config_file,
            state_file=state_path(repo.root, state.run_id),
            rewrite_state=self.save,
            wait_saved=self.writer.wait,
        )
        self.settings = settings
        self.run_dir = state_path(repo.root, state.run_id).parent
        self.started_at = started_at
        self.budget = start_invocation(state, settings, started_at)
        self.review_gate = review_gate_for(plan_text, settings)
        self.signum: int | None = None
        self._work: anyio.CancelScope | None = None
        self._head: str | None = None
        self.verifier = Verifier(repo=repo, run_id=state.run_id, settings=settings)

    def save(self) -> None:
        # written after the saves before it; an edit of the file since is noticed first
        self.guard.saved = self.writer.save(self.state, self.guard.before_save)

    def _budget_reason(self, in_milestone: bool = False) -> str | None:
        return self.budget.stop_reason(self.state.tokens_total, in_milestone=in_milestone)

    async def _guard(self, who: str) -> str | None:
        """Restore what the agent or a check must not change; say what it was."""
        return await self.repo.write(self.guard.check, who)  # it may put refs back

    async def _hook(self, event: HookEvent, **fields: Any) -> None:
        if not getattr(self.settings.hooks, event, None):
            return  # no hook for this event: nothing ran that may move refs
        self.writer.wait()  # a hook may read the state
        payload = HookPayload(
            run_id=self.state.run_id, plan=self.state.plan_path, repo=str(self.repo.root), **fields
        )
        await fire_hook(event, payload, self.settings.hooks, self.run_dir)
        await self.repo.call(self.guard.refs.refresh)  # a person's hook may push, tag or fetch

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> RunEnd:
        """Run to an end, handling SIGINT/SIGTERM/SIGHUP; never leaves state 'running'."""
        self._work = anyio.CancelScope()
        async with anyio.create_task_group() as tg:
            # handlers first, then work
            await tg.start(watch_signals, self._on_signal, self._force_exit)
            try:
                end = await self._run_or_interrupt()
            finally:
                self.verifier.close()
                self.writer.wait()
            structlog.contextvars.unbind_contextvars("milestone", "step", "attempt")
            end.report = write_report(self.run_dir, self.state, exit_code=end.exit_code)
            log.info(
                ProgressEvent.RUN_FINISHED,
                status=end.status,
                exit_code=end.exit_code,
                tokens_total=self.state.tokens_total,
                duration_s=round(time.time() - self.started_at, 3),
                reason=end.reason,
            )
            await self._hook("run_finished", status=end.status, exit_code=end.exit_code)
            tg.cancel_scope.cancel()
        return end

    async def _run_or_interrupt(self) -> RunEnd:
        assert self._work is not None
        with self._work:
            return await self._milestones()
        signum = signal.Signals(self.signum or signal.SIGINT)
        end = self._stopped("interrupted", int(SIGNAL_EXIT[signum]), f"stopped by {signum.name}")
        self.state.interrupt_running()
        self.save()
        return end

    def _on_signal(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            assert self._work is not None
            self._work.cancel()
            self.repo.stopping()  # a commit in progress finishes first

    def _force_exit(self) -> None:
        """Second SIGINT: stop the codex step at once, record the stop, exit 130."""
        log.warning("second_interrupt", action="exit now")
        reap_leftovers(self.repo.root, timeout=1.0)
        self._stopped("interrupted", int(ExitCode.INTERRUPTED), "stopped by a second SIGINT")
        self.state.interrupt_running()
        self.save()
        self.writer.wait()
        os._exit(int(ExitCode.INTERRUPTED))

    def _stopped(self, status: RunStatus, exit_code: int, reason: str | None) -> RunEnd:
        self.state.status = status
        self.state.stop_reason = reason
        self.state.ended_at = time.time()
        self.state.current_milestone = None if status == "passed" else self.state.current_milestone
        return RunEnd(status=status, exit_code=exit_code, reason=reason)

    def _reconcile(self) -> tuple[MilestoneState, str] | None:
        """Milestones done as recorded and as HEAD's history shows; a lost commit, if any.

        Only this run's records count, so a milestone it does again (``--redo``,
        ``--from``) is done only by a commit made since the run started.
        """
        settle_recorded(self.state, self.repo)
        return lost_commits(self.state, self.repo)

    async def _milestones(self) -> RunEnd:
        state = self.state
        log.info(
            ProgressEvent.RUN_STARTED,
            run_id=state.run_id,
            plan=state.plan_path,
            milestones=[
                {"id": m.id, "title": m.title, "status": m.status} for m in state.milestones
            ],
        )
        lost = await self.repo.call(self._reconcile)
        self.save()
        if lost is not None:
            return await self._stop(lost[0], LoopResult("needs_human", lost[1]))
        for ms in state.milestones:
            if ms.status == "skipped":
                log.info(
                    ProgressEvent.MILESTONE_SKIPPED,
                    milestone=ms.id,
                    title=ms.title,
                    reason=ms.skip_reason,
                )
        for ms in state.milestones:
            if ms.status not in ("passed", "skipped"):
                reason = self._budget_reason()
                if reason is not None:
                    return self._budget_stop(ms, reason)
                end = await self._one(ms)
                if end is not None:
                    return end
            if ms.id == state.until:
                break
        await commit_outcomes(self.keeper, self.state, self.repo, self.guard.refs.refresh)
        end = self._stopped("passed", int(ExitCode.OK), None)
        self.save()
        return end

    async def _one(self, ms: MilestoneState) -> RunEnd | None:
        milestone = self.plan.milestone(ms.id)
        structlog.contextvars.bind_contextvars(milestone=ms.id)
        resumed = ms.phase is not None
        if ms.checkpoint is None or ms.phase is None:
            # HEAD is the commit we made last, if any (we hold the lock; agents do not commit)
            ms.checkpoint = self._head or self.repo.head()
            ms.phase = "started"
        ms.started_at = ms.started_at or time.time()
        ms.status = "running"
        self.state.current_milestone = ms.id
        self.save()
        log.info(ProgressEvent.MILESTONE_STARTED, milestone=ms.id, title=ms.title)
        ctx = StepContext(
            repo=self.repo,
            run_dir=self.run_dir,
            plan_rel=self.state.plan_path,
            keeper=self.keeper,
            milestone=milestone,
            checks=checks_for(self.state, ms.id),
            services=services_for(self.state, ms.id),
            settings=self.settings,
            review_gate=self.review_gate,
            state=self.state,
            ms=ms,
            save=self.save,
            budget_reason=functools.partial(self._budget_reason, in_milestone=True),
            step_timeout=self.budget.step_timeout,
            remaining=self.budget.remaining,
            resumed=resumed,
            guard=self._guard,
            validator=self.verifier,
            baseline=self.verifier.baseline,
        )
        result = await run_milestone(ctx)
        structlog.contextvars.unbind_contextvars("step", "attempt")
        if result.kind == "approved":
            # the guards, and HEAD's history queried while the refs are compared
            plan = ctx.keeper.check_and_restore()
            history = functools.partial(lost_commits, self.state, self.repo)
            found, lost = await self.repo.write(self.guard.check_with, self._OUTLIVED, history)
            violation = "\n\n".join(v for v in (plan, found) if v)
            if violation or lost:
                reason = "\n\n".join(v for v in (violation, lost and lost[1]) if v)
                return await self._stop(ms, LoopResult("needs_human", reason))
            await self._commit(ms)
            return None
        return await self._stop(ms, result)

    async def _stop(self, ms: MilestoneState, result: LoopResult) -> RunEnd:
        ms.stop_reason = result.reason + (
            f" (question: {result.question})" if result.question else ""
        )
        ms.ended_at = time.time()
        if result.kind == "budget":
            return self._budget_stop(ms, result.reason)
        parked = _PARKED.get(result.kind)
        if parked is not None:  # the milestone stays resumable; nothing counted against it
            status, code, event, hook = parked
            self.state.interrupt_running()
            extra = {"resets_at": result.resets_at} if result.kind == "usage_limit" else {}
            if result.kind == "usage_limit":
                self.state.resets_at = result.resets_at
            log.warning(event, milestone=ms.id, reason=result.reason, **extra)
            end = self._stopped(status, int(code), result.reason)
            self.save()
            await self._hook(
                hook, milestone=ms.id, reason=result.reason, exit_code=end.exit_code, **extra
            )
            return end
        if result.kind == "needs_human":
            ms.status = "needs_human"
            end = self._stopped("needs_human", int(ExitCode.NEEDS_HUMAN), result.reason)
            end.question = result.question
            self.save()
            path = write_needs_human(self.run_dir, self.state, ms, question=result.question)
            await self._hook(
                "needs_human",
                milestone=ms.id,
                reason=result.reason,
                question=result.question,
                handoff=str(path),
                exit_code=end.exit_code,
            )
        else:
            ms.status = "gave_up"
            if self.settings.loop.on_give_up == "reset" and ms.checkpoint:
                await self.repo.write(self.repo.reset_to, ms.checkpoint)
                await self.repo.call(self.guard.refs.refresh)
                self.keeper.text = read_plan_text(self.keeper.path)
                log.info("milestone_reset", milestone=ms.id, checkpoint=ms.checkpoint)
            end = self._stopped(
                "gave_up", int(ExitCode.GAVE_UP), f"milestone {ms.id}: {result.reason}"
            )
            self.save()
            await self._hook(
                "gave_up", milestone=ms.id, reason=result.reason, exit_code=end.exit_code
            )
        log.info(
            ProgressEvent.MILESTONE_FINISHED,
            milestone=ms.id,
            status=ms.status,
            attempts=ms.attempts_made,
            commit=None,
        )
        return end

    def _budget_stop(self, ms: MilestoneState, reason: str) -> RunEnd:
        self.state.interrupt_running()
        log.warning("budget_exhausted", reason=reason)
        end = self._stopped("budget", int(ExitCode.GAVE_UP), f"budget: {reason}")
        self.save()
        return end

    # -- passing a milestone -----------------------------------------------------------------

    async def _commit(self, ms: MilestoneState) -> None:
        milestone = self.plan.milestone(ms.id)
        text, summary = milestone_passed_text(
            self.keeper.text,
            milestone,
            step_answers(self.run_dir, ms),
            datetime.now(UTC),
            self.plan.milestones,
        )
        self.keeper.write(text)
        # HEAD and the commit's record move together: a kill before the state save is
        # settled from the record when the run resumes. A stop lets the transaction end.
        sha = await self.repo.write(
            publish_commit,
            self.repo,
            self.state.run_id,
            ms.id,
            f"{Path(self.state.plan_path).stem}: milestone {ms.id}: {milestone.title}\n\n"
            f"{summary}\n",
            {
                "ExecPlan": self.state.plan_path,
                "Milestone": ms.id,
                "Attempts": str(ms.attempts_made),
                "Codex-Thread": ms.thread_id or "none",
            },
        )
        self._head = sha
        # the transaction moved exactly these two: anything else that moved is still found
        self.guard.refs.moved({"HEAD": sha, record_ref(self.state.run_id, ms.id): sha})
        ms.commit, ms.status, ms.phase = sha, "passed", "committed"
        ms.ended_at = time.time()
        ms.stop_reason = None
        self.save()  # before the next await: a stop asked during the commit ends there
        log.info(
            ProgressEvent.MILESTONE_FINISHED,
            milestone=ms.id,
            status="passed",
            attempts=ms.attempts_made,
            commit=sha,
        )
        await anyio.lowlevel.checkpoint()  # here a stop asked during the commit ends the run
        await self._hook("milestone_passed", milestone=ms.id, commit=sha, attempts=ms.attempts_made)
