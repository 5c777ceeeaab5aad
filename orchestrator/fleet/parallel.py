"""``orchestrator run PLAN_A PLAN_B ... --parallel N``: plans side by side in worktrees.

Each plan runs as its own ``orchestrator run`` child in its own worktree (see
:mod:`orchestrator.fleet.worktrees`), with its own lock, state and report, so a
killed batch resumes plan by plan with the machinery a single run already has:
running the same line again continues every unfinished plan and reports the
finished ones as done. This process only schedules (at most N at once),
forwards the settings flags as ``ORCH_*`` variables, shares one token budget
among the children, prints one combined progress view and, at the end, the
finished branches with the command that merges each.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import structlog

from orchestrator.errors import ExitCode, UsageError
from orchestrator.fleet.worktrees import PlanWorktree, slug_for, worktree_for
from orchestrator.paths import RUNS_DIR
from orchestrator.process.child import ProcessRequest, run_process
from orchestrator.settings.loader import ENV_PREFIX
from orchestrator.store.git import Repo
from orchestrator.store.lock import read_holder
from orchestrator.store.state import RunState, find_unfinished, newest_run
from orchestrator.ui import console
from orchestrator.ui.batch_view import BatchRow, batch_live

log = structlog.get_logger()

# How one plan of a batch is doing: not started yet, already passed before the batch,
# out of the shared budget before it started, its child running, its child ended.
JobState = Literal["waiting", "done", "budget", "running", "finished"]

POLL_S = 1.0
_SEVERITY = (int(ExitCode.NEEDS_HUMAN), int(ExitCode.GAVE_UP), int(ExitCode.USAGE))


@dataclass
class PlanJob:
    """One plan of the batch and how it is doing."""

    wt: PlanWorktree
    state: JobState = "waiting"
    exit_code: int | None = None
    last_line: str = ""
    tokens_at_start: int = 0
    scope: anyio.CancelScope | None = None
    over_budget: bool = False
    runs_seen: set[str] = field(default_factory=set)


def settings_env(flags: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child: ``base`` plus each settings flag as ``ORCH_*``."""
    import json

    env = dict(base)
    for key, value in flags.items():
        name = ENV_PREFIX + "__".join(part.upper() for part in key.split("."))
        env[name] = json.dumps(value) if isinstance(value, list | bool) else str(value)
    return env


def _where(run: RunState) -> str:
    current = next((m for m in run.milestones if m.status == "running"), None)
    done = sum(1 for m in run.milestones if m.status == "passed")
    return f"milestone {current.id}" if current else f"{done}/{len(run.milestones)} passed"


def _describe(run: RunState | None) -> str:
    if run is None:
        return "starting"
    return f"{run.status}, {_where(run)}, {run.tokens_total} tokens"


class Batch:
    """The plans of one ``run`` line, scheduled at most ``parallel`` at once."""

    def __init__(
        self,
        repo: Repo,
        jobs: list[PlanJob],
        *,
        parallel: int,
        env: dict[str, str],
        token_budget: int | None,
        live: bool = False,
        quiet: bool = False,
    ) -> None:
        self.live = live
        self.quiet = quiet
        self.repo = repo
        self.jobs = jobs
        self.parallel = parallel
        self.env = env
        self.token_budget = token_budget

    def tokens_used(self) -> int:
        used = 0
        for job in self.jobs:
            run = newest_run(job.wt.path, job.wt.plan_rel)
            if run is not None:
                used += max(0, run.tokens_total - job.tokens_at_start)
        return used

    async def run(self) -> int:
        limiter = anyio.CapacityLimiter(self.parallel)
        watcher = anyio.CancelScope()
        with batch_live(self.live, self.rows):
            async with anyio.create_task_group() as outer:
                outer.start_soon(self._watch, watcher)
                async with anyio.create_task_group() as tg:
                    for job in self.jobs:
                        tg.start_soon(self._job, job, limiter)
                self._show_changes()
                watcher.cancel()
        return self._summary()

    def rows(self) -> list[BatchRow]:
        """One row per plan for the live table."""
        out = []
        for job in self.jobs:
            run = newest_run(job.wt.path, job.wt.plan_rel) if job.state != "waiting" else None
            state = job.state if run is None or job.state == "done" else run.status
            where = _where(run) if run is not None else "-"
            tokens = run.tokens_total if run is not None else 0
            out.append(BatchRow(job.wt.plan_rel, job.wt.branch, state, where, tokens))
        return out

    async def _job(self, job: PlanJob, limiter: anyio.CapacityLimiter) -> None:
        async with limiter:
            await self._wait_for_lock(job)
            run = newest_run(job.wt.path, job.wt.plan_rel)
            unfinished = find_unfinished(job.wt.path, job.wt.plan_rel)
            if run is not None and unfinished is None and run.status == "passed":
                job.state, job.exit_code = "done", 0
                self._say(f"[{job.wt.slug}] already done on {job.wt.branch}")
                return
            if self.token_budget is not None and self.tokens_used() >= self.token_budget:
                job.state, job.exit_code, job.over_budget = "budget", int(ExitCode.GAVE_UP), True
                return
            job.tokens_at_start = run.tokens_total if unfinished is not None and run else 0
            command = "resume" if unfinished is not None else "run"
            argv = [sys.executable, "-m", "orchestrator", "-C", str(job.wt.path), "-q"]
            argv += [command, job.wt.plan_rel]
            env = dict(self.env)
            if self.token_budget is not None:
                left = max(1, self.token_budget - self.tokens_used())
                env[ENV_PREFIX + "RUN__MAX_TOKENS"] = str(left)
            logs = job.wt.path / RUNS_DIR
            logs.mkdir(parents=True, exist_ok=True)
            job.state = "running"
            self._say(f"[{job.wt.slug}] {command} {job.wt.plan_rel} in {job.wt.path}")
            job.scope = anyio.CancelScope()
            with job.scope:
                outcome = await run_process(
                    ProcessRequest(
                        argv=argv,
                        cwd=job.wt.path,
                        env=env,
                        interrupt_first=True,
                        kill_grace=30.0,
                        transcript=logs / "batch-child.log",
                    )
                )
                job.exit_code = outcome.exit_code if outcome.exit_code is not None else 1
            run = newest_run(job.wt.path, job.wt.plan_rel)
            if job.scope.cancelled_caught and not (run and run.status == "passed"):
                job.exit_code = int(ExitCode.GAVE_UP)  # stopped for the shared budget
            job.over_budget = job.over_budget and job.exit_code != 0
            job.state = "finished"

    async def _wait_for_lock(self, job: PlanJob) -> None:
        said = False
        while (holder := read_holder(job.wt.path)) is not None:
            if not said:
                self._say(
                    f"[{job.wt.slug}] still running from an earlier start "
                    f"(pid {holder.pid}); waiting for it to end"
                )
                said = True
            await anyio.sleep(POLL_S)

    async def _watch(self, scope: anyio.CancelScope) -> None:
        with scope:
            while True:
                self._show_changes()
                if self.token_budget is not None and self.tokens_used() >= self.token_budget:
                    for job in self.jobs:
                        if job.scope is not None and job.exit_code is None:
                            job.over_budget = True
                            job.scope.cancel()
                await anyio.sleep(POLL_S)

    def _show_changes(self) -> None:
        for job in self.jobs:
            if job.state in ("waiting", "done"):
                continue
            run = newest_run(job.wt.path, job.wt.plan_rel)
            # With the live table on screen, lines mark transitions only (tokens are in it).
            line = f"{run.status}, {_where(run)}" if self.live and run else _describe(run)
            if line != job.last_line:
                job.last_line = line
                self._say(f"{time.strftime('%H:%M:%S')} [{job.wt.slug}] {line}")

    def _say(self, text: str) -> None:
        """A progress line: on stdout, none when quiet."""
        if not self.quiet:
            console.out(text)

    def _summary(self) -> int:
        codes = [job.exit_code if job.exit_code is not None else 1 for job in self.jobs]
        if self.quiet and not any(codes):
            return 0  # cron mails nothing when every plan passed
        # Quiet: only a batch that needs attention prints, on stderr, so cron mails it.
        say = console.err if self.quiet else console.out
        if not self.quiet:
            say("")
        for job, code in zip(self.jobs, codes, strict=True):
            run = newest_run(job.wt.path, job.wt.plan_rel)
            if code == 0:
                say(f"{job.wt.plan_rel}: passed on branch {job.wt.branch}")
                say(f"    merge it: git merge {job.wt.branch}")
                continue
            why = (
                "the shared token budget ran out"
                if job.over_budget
                else (
                    f"{run.status}: {run.stop_reason}"
                    if run and run.stop_reason
                    else f"exit {code}"
                )
            )
            say(f"{job.wt.plan_rel}: not finished ({why}); report in {job.wt.path / RUNS_DIR}")
        bad = [c for c in codes if c != 0]
        if bad:
            say("Run the same line again to continue the unfinished plans.")
        if not bad:
            return 0
        for severe in _SEVERITY:
            if severe in bad:
                return severe
        return bad[0]


def run_parallel(
    *,
    repo: Path,
    plans: Sequence[Path],
    parallel: int,
    flags: Mapping[str, Any],
    token_budget: int | None,
    live: bool = False,
    quiet: bool = False,
) -> int:
    """Run ``plans`` in worktrees of ``repo``, at most ``parallel`` at once; the exit code."""
    if parallel < 1:
        raise UsageError("--parallel needs a number of plans to run at once, 1 or more")
    git = Repo.open(repo)
    jobs: list[PlanJob] = []
    taken: set[str] = set()
    for plan in plans:
        rel = _plan_rel(git.root, plan)
        if any(j.wt.plan_rel == rel for j in jobs):
            raise UsageError(f"the plan {rel} is named twice; name each plan once")
        slug = slug_for(rel, taken)
        taken.add(slug)
        jobs.append(PlanJob(wt=worktree_for(git, rel, slug)))
    git.exclude_runs_dir()  # once, before the runs start (they share the exclude file)
    forwarded = {k: v for k, v in flags.items() if k != "run.max_tokens"}
    env = settings_env(forwarded, os.environ)
    batch = Batch(
        git, jobs, parallel=parallel, env=env, token_budget=token_budget, live=live, quiet=quiet
    )
    return anyio.run(batch.run)


def _plan_rel(root: Path, plan: Path) -> str:
    """The plan's path relative to the repository, found as `run` finds it; it must exist."""
    from orchestrator.paths import plan_location

    found, rel = plan_location(root, plan)
    if not found.is_file():
        raise UsageError(f"the plan {plan} does not exist; name an ExecPlan file in {root}")
    return rel
