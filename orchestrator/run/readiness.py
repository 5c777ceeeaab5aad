"""Decisions before a stopped run continues, and the record of a run that failed.

Used by :mod:`orchestrator.run.session` (``run`` and ``resume``): the preflight gate
(:mod:`orchestrator.run.preflight`), a run waiting for a person who has not acted,
a run parked on a usage limit that has not reset, and an exception that ended a run.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import structlog

from orchestrator.crash import write_crash_log
from orchestrator.errors import ExitCode, InternalError, expected_error, interrupt_in
from orchestrator.milestone.usage_wait import plan_wait
from orchestrator.run.budget import Budget
from orchestrator.run.head_start import HeadStart
from orchestrator.run.next_step import next_step
from orchestrator.run.preflight import Target, preflight, require
from orchestrator.run.runner import Runner
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.state import RunState, run_dir
from orchestrator.ui import console
from orchestrator.ui.report import write_report

log = structlog.get_logger()


def require_ready(
    repo: Repo,
    settings: Settings,
    plan_abs: Path,
    plan_rel: str,
    state: RunState | None,
    ahead: HeadStart | None = None,
) -> None:
    """Preflight: exit 2 with the fixes before any model request (nothing claimed yet);
    once it passed, the verifier gets the sandbox probe started ahead (``ahead``)."""
    target = Target(
        plan=plan_abs,
        new_run=state is None,
        pinned=state.pinned_checks if state is not None else None,
    )
    items = preflight(repo=repo.root, settings=settings, target=target, env=os.environ, ahead=ahead)
    require(items, plan_arg=plan_rel)
    if ahead is not None:
        ahead.hand_over_sandbox(os.environ)


def tree_digest(repo: Repo) -> str:
    """HEAD plus the work tree's changes (untracked files and the plan included)."""
    text = repo.head() + "\n" + repo.diff_since("HEAD")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def still_waiting(run: RunState, settings: Settings, root: Path) -> int:
    """The nightly line on a run that waits for a person who has not acted yet."""
    rdir = run_dir(root, run.run_id)
    console.err(
        f"orchestrator: run {run.run_id} of {run.plan_path} is waiting for a person "
        f"({run.stop_reason or 'needs a human'}); nothing changed since it stopped, so "
        "nothing was sent to the model."
    )
    console.err(f"  {next_step(run, root, rdir)}")
    return int(ExitCode.NEEDS_HUMAN)


def still_limited(state: RunState, settings: Settings, root: Path) -> bool:
    """A run parked on a usage limit that resets after what this invocation may spend:
    say so and send nothing (no request storm from a frequent cron line)."""
    now = time.time()
    if state.status != "usage_limit" or state.resets_at is None or state.resets_at + 60 <= now:
        return False
    remaining = Budget.from_settings(settings.run, now).remaining()
    allowed = settings.budget.usage_limit_wait if remaining is None else remaining
    if plan_wait(state.resets_at, now, allowed) is not None:
        return False  # the step will wait for it
    when = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(state.resets_at))
    console.err(
        f"orchestrator: run {state.run_id} of {state.plan_path} waits for a usage limit that "
        f"resets at {when}, after this invocation's budget; nothing was sent to the model."
    )
    console.err(f"  {next_step(state, root, run_dir(root, state.run_id))}")
    return True


def record_failure(runner: Runner, rdir: Path, exc: BaseException) -> BaseException:
    """Record why the run ended on an exception; the exception the CLI should see.

    An expected error (also one wrapped in a task group's ExceptionGroup) keeps its
    message and exit code; anything else gets a crash log. Either way the state says
    why and report.md exists.
    """
    interrupt = interrupt_in(exc)
    expected = expected_error(exc)
    if expected is None and interrupt is not None:
        return interrupt  # a signal, not a failure: the caller saves the run as interrupted
    state = runner.state
    if expected is not None:
        reason, code, out = expected.message, int(expected.exit_code), expected
    else:
        crash = write_crash_log(exc, rdir)
        reason = f"internal error: {exc!r}; details in {crash}"
        code, out = int(InternalError.exit_code), InternalError(reason)
    log.error("run_failed", reason=reason, exit_code=code)
    if state.status == "running":
        for ms in state.milestones:
            if ms.status == "running":
                ms.status = "interrupted"
        state.status = "failed"
        state.stop_reason = reason
        state.ended_at = time.time()
        runner.save()
        runner.writer.wait()  # on disk before the run ends: nothing waits for it later
    write_report(rdir, state, exit_code=code)
    return out
