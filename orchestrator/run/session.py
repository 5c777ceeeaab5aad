"""Entry points of `orchestrator run` and `orchestrator resume`.

Both open the repository, take the repo lock, create or load the run state and
hand it to :class:`orchestrator.run.runner.Runner`; they return the process exit code.
The run machinery (runner, loop, codex, processes, live view) is imported only once a
run really starts, so the early exits (lock held, nothing to resume, unrunnable plan)
stay cheap.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import structlog

from orchestrator.errors import (
    ExitCode,
    PlanError,
    StateError,
    UsageError,
)
from orchestrator.paths import plan_location
from orchestrator.plan import load_plan
from orchestrator.plan.lint import lint_plan
from orchestrator.plan.model import ExecPlan
from orchestrator.run.pinned import pinned_checks
from orchestrator.run.resuming import find_run, plan_digest, prepare_resume, rebuild_state
from orchestrator.run.selection import Choice, Selection, choose, nothing_to_run, plan_standing
from orchestrator.run.signals import EXIT_BY_STATUS, Terminated, exit_code_for, signals_raise
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.lock import RepoLock
from orchestrator.store.state import (
    MilestoneState,
    RunState,
    find_unfinished,
    new_run_id,
    newest_run,
    run_dir,
    save_state,
    state_path,
)
from orchestrator.ui.logs import close_logging, configure_logging, reset_run_view

if TYPE_CHECKING:
    from orchestrator.run.head_start import HeadStart

log = structlog.get_logger()

# Phases after which a stopped milestone is validated again when resumed.


def _load_runnable(path: Path, settings: Settings) -> tuple[str, ExecPlan]:
    report = lint_plan(path, settings.checks.commands)
    if not report.runnable:
        problems = "; ".join(
            f"line {p.line}: {p.message}" for p in report.problems if p.severity == "error"
        )
        hint = f" Hint: {report.hint}" if report.hint else ""
        raise PlanError(
            f"the plan {path} cannot run: {problems}.{hint} Run `orchestrator check {path}` for "
            "details."
        )
    return load_plan(path)


def _execute(
    repo: Repo,
    state: RunState,
    plan: ExecPlan,
    text: str,
    plan_abs: Path,
    settings: Settings,
    config_file: Path | None,
) -> int:
    from orchestrator.process.leftovers import reap_leftovers
    from orchestrator.run.next_step import next_step
    from orchestrator.run.readiness import record_failure, tree_digest
    from orchestrator.run.runner import Runner
    from orchestrator.ui.live import final_summary, live_display

    rdir = run_dir(repo.root, state.run_id)
    configure_logging(settings.log, rdir, state.run_id)
    reap_leftovers(repo.root)  # we hold the lock: whatever a killed run left is an orphan
    reset_run_view()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=state.run_id)
    runner = Runner(
        repo=repo,
        state=state,
        plan=plan,
        plan_text=text,
        plan_path=plan_abs,
        settings=settings,
        started_at=time.time(),
        config_file=config_file,
    )
    try:
        with live_display(settings.log):
            end = anyio.run(runner.run)
    except (Terminated, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise record_failure(runner, rdir, exc) from None
    finally:
        structlog.contextvars.clear_contextvars()
        close_logging()
    if end.status == "needs_human":
        state.handoff_digest = tree_digest(repo)
        runner.save()
        runner.writer.wait()
    final_summary(
        status=end.status,
        exit_code=end.exit_code,
        settings=settings.log,
        report_path=end.report,
        question=end.question,
        reason=end.reason,
        next_step=next_step(state, repo.root, rdir),
    )
    return end.exit_code


def _claim_and_execute(
    repo: Repo,
    state: RunState,
    plan: ExecPlan,
    text: str,
    plan_abs: Path,
    settings: Settings,
    config_file: Path | None = None,
) -> int:
    """Save the state as ours and run; a signal outside the run loop still saves it."""
    from orchestrator.ui.report import write_report

    path = state_path(repo.root, state.run_id)
    with signals_raise():
        try:
            save_state(path, state)
            return _execute(repo, state, plan, text, plan_abs, settings, config_file)
        except (Terminated, KeyboardInterrupt) as exc:
            if state.status != "running":  # the run had ended; keep how it ended
                return EXIT_BY_STATUS.get(state.status, exit_code_for(exc))
            state.interrupt_running()
            state.status = "interrupted"
            state.stop_reason = "stopped by a signal before the run loop took over"
            state.ended_at = time.time()
            save_state(path, state)
            code = exit_code_for(exc)
            write_report(path.parent, state, exit_code=code)
            return code


def _chosen(
    git: Repo, plan_abs: Path, plan_rel: str, settings: Settings, selection: Selection | None
) -> tuple[str, ExecPlan, Choice]:
    """The runnable plan's text and model, and what a new run of it would run."""
    text, plan = _load_runnable(plan_abs, settings)
    marks = plan_standing(git, plan_rel, text, plan)
    return text, plan, choose(plan, marks, selection or Selection())


def start_run(
    *,
    repo: Path,
    plan_path: Path,
    settings: Settings,
    fresh: bool,
    config_file: Path | None = None,
    selection: Selection | None = None,
    dry_run: bool = False,
    accept_changes: bool = False,
    ahead: HeadStart | None = None,
) -> int:
    """`orchestrator run PLAN`: start a new run of the plan; returns the exit code.

    The run starts where the plan stands: milestones its text marks done are
    skipped (``selection`` can override that, see :mod:`orchestrator.run.selection`);
    a plan with nothing left to run exits 0 without writing anything. ``ahead`` holds
    the preflight's probes started earlier (:mod:`orchestrator.run.head_start`).
    """
    from orchestrator.guard.pins import security_pins
    from orchestrator.run.dry_run import show_dry_run
    from orchestrator.run.readiness import require_ready, still_waiting, tree_digest

    git = Repo.open(repo)
    plan_abs, plan_rel = plan_location(git.root, plan_path)
    if dry_run:
        text, plan, choice = _chosen(git, plan_abs, plan_rel, settings, selection)
        return show_dry_run(
            git=git,
            plan_rel=plan_rel,
            text=text,
            plan=plan,
            choice=choice,
            settings=settings,
            fresh=fresh,
        )
    # The lock before the plan: while another run holds it, that is the answer, whatever
    # the plan says (so the early exit in run/early.py can give it without parsing).
    with RepoLock(git.root, plan=plan_rel) as lock:
        text, plan, choice = _chosen(git, plan_abs, plan_rel, settings, selection)
        unfinished = None if fresh else find_unfinished(git.root, plan_rel)
        if unfinished is not None and not (selection or Selection()).empty:
            raise UsageError(
                f"run {unfinished.run_id} of {plan_rel} did not finish ({unfinished.status}); "
                "milestone selection flags apply to a new run. Continue it with "
                f"`orchestrator run {plan_rel}`, or start over with "
                f"`orchestrator run --fresh {plan_rel}` and the flags."
            )
        if unfinished is not None:
            if unfinished.status == "needs_human" and unfinished.handoff_digest == tree_digest(git):
                return still_waiting(unfinished, settings, git.root)
            log.info("continuing_run", run_id=unfinished.run_id, status=unfinished.status)
            return _continue(
                git, lock, unfinished, plan_abs, plan_rel, settings, config_file,
                answer=None, accept_changes=accept_changes, ahead=ahead,
            )  # fmt: skip
        if not choice.to_run(plan):
            return nothing_to_run(plan_rel, plan, choice, settings)
        require_ready(git, settings, plan_abs, plan_rel, None, ahead)
        git.exclude_runs_dir()
        if settings.run.branch and git.current_branch() != settings.run.branch:
            git.create_branch(settings.run.branch)
        state = RunState(
            run_id=new_run_id(),
            plan_path=plan_rel,
            plan_hash=plan_digest(text),
            pinned_checks=pinned_checks(plan, settings),
            pinned_settings=security_pins(
                settings, root=git.root, plan_text=text, config_file=config_file
            ),
            base_commit=git.head(),
            branch=settings.run.branch or git.current_branch(),
            until=choice.until,
            redo=choice.redo,
            milestones=[
                MilestoneState(
                    id=m.id,
                    title=m.title,
                    status="skipped" if m.id in choice.skipped else "pending",
                    skip_reason=choice.skipped.get(m.id),
                )
                for m in plan.milestones
            ],
        )
        lock.set_run(state.run_id)
        return _claim_and_execute(git, state, plan, text, plan_abs, settings, config_file)


def resume_run(
    *,
    repo: Path,
    plan_path: Path | None,
    run_id: str | None,
    rebuild: bool,
    settings: Settings,
    config_file: Path | None = None,
    answer: str | None = None,
    accept_changes: bool = False,
    ahead: HeadStart | None = None,
) -> int:
    """`orchestrator resume [PLAN] [--run ID] [--rebuild] [--answer TEXT]`; the exit code."""
    git = Repo.open(repo)
    located = plan_location(git.root, plan_path) if plan_path is not None else None
    with RepoLock(git.root, plan=located[1] if located else "?") as lock:
        if rebuild:
            if located is None:
                raise UsageError(
                    "--rebuild needs the PLAN argument: `orchestrator resume --rebuild PLAN`"
                )
            state = rebuild_state(git, located[0], located[1], run_id, settings)
        else:
            if located is not None and run_id is None and answer is None:
                newest = newest_run(git.root, located[1])
                if newest is not None and newest.finished:
                    text, plan = _load_runnable(located[0], settings)
                    choice = choose(plan, plan_standing(git, located[1], text, plan), Selection())
                    if not choice.to_run(plan):
                        return nothing_to_run(located[1], plan, choice, settings)
            try:
                state = find_run(git.root, located[1] if located else None, run_id)
            except StateError as exc:
                raise StateError(exc.message) from None
        plan_abs, plan_rel = located if located else plan_location(git.root, Path(state.plan_path))
        return _continue(
            git, lock, state, plan_abs, plan_rel, settings, config_file,
            answer=answer, accept_changes=accept_changes, ahead=ahead,
        )  # fmt: skip


def _continue(
    git: Repo,
    lock: RepoLock,
    state: RunState,
    plan_abs: Path,
    plan_rel: str,
    settings: Settings,
    config_file: Path | None,
    *,
    answer: str | None,
    accept_changes: bool = False,
    ahead: HeadStart | None = None,
) -> int:
    """Continue a stopped run (``resume``, and ``run`` when the plan has an unfinished run).

    What the run pinned (security-relevant settings, program files, the plan's checks)
    must be what this invocation read, unless ``accept_changes`` (see guard/pins.py).
    """
    from orchestrator.guard.pins import confirm_pins
    from orchestrator.run.answer import record_answer
    from orchestrator.run.readiness import require_ready, still_limited
    from orchestrator.ui.report import NEEDS_HUMAN_FILE

    if plan_rel != state.plan_path:
        raise UsageError(f"run {state.run_id} is a run of {state.plan_path}, not of {plan_rel}")
    text, plan = _load_runnable(plan_abs, settings)
    missing = [m.id for m in state.milestones if m.id not in {p.id for p in plan.milestones}]
    if missing:
        raise PlanError(
            f"the plan {plan_rel} no longer has milestone(s) {', '.join(missing)} of run "
            f"{state.run_id}; restore them, or start over with `orchestrator run --fresh`"
        )
    if state.finished:
        raise UsageError(f"run {state.run_id} already passed; nothing to resume")
    branch = settings.run.branch
    if branch and git.current_branch() != branch:
        raise UsageError(
            f"run {state.run_id} is to continue on branch {branch}, but "
            f"{git.current_branch()} is checked out: `git checkout {branch}` and resume again"
        )
    confirm_pins(state, settings=settings, plan=plan, plan_text=text, root=git.root,
                 config_file=config_file, accept=accept_changes)  # fmt: skip
    require_ready(git, settings, plan_abs, plan_rel, state, ahead)
    if still_limited(state, settings, git.root):
        return int(ExitCode.GAVE_UP)
    lock.set_run(state.run_id)
    if answer is not None:
        text = record_answer(plan_abs, text, state, answer)
        plan = load_plan(plan_abs)[1]
    prepare_resume(state, plan, settings)
    (run_dir(git.root, state.run_id) / NEEDS_HUMAN_FILE).unlink(missing_ok=True)
    return _claim_and_execute(git, state, plan, text, plan_abs, settings, config_file)
