"""The fleet's activities: claim a host, run the plan there, push the branch.

A plan's work tree lives on one worker host, in ``<workdir>/<workflow id>``: a
clone of the repository on the plan's branch. :meth:`FleetActivities.run_plan`
runs ``orchestrator run`` (or ``resume``) there as a child process, the same
command a person would type, and heartbeats what the run is doing. A worker
killed mid-milestone loses the heartbeat; Temporal retries the activity on the
host's queue, the retry finds the unfinished run in the tree and resumes it,
so each milestone is committed once. Results reach the repository's remote as
the plan's branch after every invocation.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import anyio
import structlog
from temporalio import activity

from orchestrator.fleet.contract import CLAIM_ACTIVITY, RUN_ACTIVITY, RunRequest, RunResult
from orchestrator.paths import RUNS_DIR
from orchestrator.process.child import ProcessOutcome, ProcessRequest, run_process
from orchestrator.store.lock import read_holder
from orchestrator.store.state import find_unfinished, newest_run

log = structlog.get_logger()

GIT_TIMEOUT_S = 600.0
_NEEDS_HUMAN = 3


class FleetError(RuntimeError):
    """A step of the activity failed; Temporal retries the activity."""


class FleetActivities:
    """The activities of one worker host."""

    def __init__(self, host_queue: str, workdir: Path) -> None:
        self.host_queue = host_queue
        self.workdir = workdir

    @activity.defn(name=CLAIM_ACTIVITY)
    async def claim_host(self) -> str:
        """The workflow's work tree will live on this host: its own task queue."""
        return self.host_queue

    @activity.defn(name=RUN_ACTIVITY)
    async def run_plan(self, request: RunRequest) -> RunResult:
        tree = self.workdir / request.workflow_id
        await _checkout(tree, request)
        result: RunResult | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_heartbeat, tree, request)
            result = await _run_once(tree, request)
            tg.cancel_scope.cancel()
        pushed = await _push(tree, request.branch)
        return RunResult(**{**result.__dict__, "pushed": pushed})


async def _git(cwd: Path, *args: str) -> ProcessOutcome:
    outcome = await run_process(
        ProcessRequest(argv=["git", *args], cwd=cwd, timeout=GIT_TIMEOUT_S, kill_grace=2.0)
    )
    if outcome.ended != "exited" or outcome.exit_code != 0:
        raise FleetError(
            f"`git {' '.join(args[:2])}` failed in {cwd}: {outcome.stderr_tail.strip()[-500:]}"
        )
    return outcome


def _needs_clone(tree: Path) -> bool:
    if (tree / ".git" / "HEAD").exists():
        return False
    if tree.exists():  # a clone cut short by a killed worker
        shutil.rmtree(tree)
    tree.parent.mkdir(parents=True, exist_ok=True)
    return True


async def _checkout(tree: Path, request: RunRequest) -> None:
    if not _needs_clone(tree):
        return
    await _git(tree.parent, "clone", "--quiet", request.repo, str(tree))
    remote = await _git(tree, "ls-remote", "--heads", "origin", request.branch)
    if remote.stdout_tail.strip():
        await _git(tree, "checkout", "-q", "-B", request.branch, f"origin/{request.branch}")
    else:
        await _git(tree, "checkout", "-q", "-b", request.branch)


async def _run_once(tree: Path, request: RunRequest) -> RunResult:
    # An orphan of a killed worker may still be finishing its step: wait for its lock (a
    # file lock held by another process; there is nothing to wait on but the file).
    while read_holder(tree) is not None:  # noqa: ASYNC110
        await anyio.sleep(1.0)
    newest = newest_run(tree, request.plan)
    unfinished = find_unfinished(tree, request.plan)
    if newest is not None and unfinished is None and newest.status == "passed":
        return _result(tree, request, 0)
    argv = [sys.executable, "-m", "orchestrator", "-C", str(tree), "-q"]
    if unfinished is not None:
        argv += ["resume", request.plan]
        if request.answer is not None:
            argv += ["--answer", request.answer]
    else:
        argv += ["run", request.plan]
    (tree / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    log.info("fleet_run", tree=str(tree), argv=argv[3:])
    # A usage limit parks the run at once: the workflow waits on a durable timer instead.
    env = {**os.environ, "ORCH_BUDGET__USAGE_LIMIT_WAIT": "0"}
    outcome = await run_process(
        ProcessRequest(
            argv=argv,
            cwd=tree,
            env=env,
            interrupt_first=True,
            kill_grace=30.0,
            transcript=tree / RUNS_DIR / "fleet-child.log",
        )
    )
    return _result(tree, request, outcome.exit_code if outcome.exit_code is not None else 1)


def _result(tree: Path, request: RunRequest, exit_code: int) -> RunResult:
    run = newest_run(tree, request.plan)  # read through the seal check, like every state
    if run is None:
        return RunResult(exit_code=exit_code, status="failed")
    current = next((m for m in run.milestones if m.status != "passed"), None)
    return RunResult(
        exit_code=exit_code,
        status=run.status,
        milestone=current.id if current else None,
        reason=run.stop_reason,
        question=run.stop_reason if exit_code == _NEEDS_HUMAN else None,
        resume_at=run.resets_at,
        tokens=run.tokens_total,
    )


async def _heartbeat(tree: Path, request: RunRequest) -> None:
    while True:
        run = newest_run(tree, request.plan) if (tree / RUNS_DIR).is_dir() else None
        ms = run.milestones if run else []
        running = next((m.id for m in ms if m.status == "running"), None)
        activity.heartbeat({"status": run.status if run else "starting", "milestone": running})
        await anyio.sleep(max(0.5, request.heartbeat_s / 4))


async def _push(tree: Path, branch: str) -> str | None:
    outcome = await _git(tree, "rev-parse", "HEAD")
    head = outcome.stdout_tail.strip()
    await _git(tree, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return head or None
