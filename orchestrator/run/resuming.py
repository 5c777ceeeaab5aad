"""Finding the run to resume and readying its state (or rebuilding a corrupt one)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import structlog

from orchestrator.errors import StateError
from orchestrator.plan import load_plan
from orchestrator.plan.model import ExecPlan
from orchestrator.run.early import nothing_to_resume
from orchestrator.run.pinned import pinned_checks
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.run_files import state_files
from orchestrator.store.state import (
    MilestoneState,
    RunState,
    find_unfinished,
    list_runs,
    load_state,
    new_run_id,
    raise_if_tampered,
    state_path,
)

log = structlog.get_logger()

_WORKED = ("implemented", "validated", "reviewed", "repaired")


def plan_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find_run(root: Path, plan_rel: str | None, run_id: str | None) -> RunState:
    if run_id is not None:
        return load_state(state_path(root, run_id))
    if plan_rel is not None:
        found = find_unfinished(root, plan_rel)
        if found is None:
            raise nothing_to_resume(plan_rel)
        return found
    raise_if_tampered(root, None)
    for run in list_runs(root):
        if not run.finished:
            return run
    raise nothing_to_resume(None)


def _newest_corrupt(root: Path) -> str | None:
    for path in state_files(root):
        try:
            load_state(path)
        except StateError:
            return path.parent.name
    return None


def rebuild_state(
    git: Repo, plan_abs: Path, plan_rel: str, run_id: str | None, settings: Settings
) -> RunState:
    """A new state for a run whose state file is corrupt: from the plan and git history."""
    if run_id is None:
        run_id = _newest_corrupt(git.root) or new_run_id()
    path = state_path(git.root, run_id)
    if path.exists():
        path.rename(path.with_name(f"state.json.corrupt-{int(time.time())}"))
    text, plan = load_plan(plan_abs)
    state = RunState(
        run_id=run_id,
        plan_path=plan_rel,
        plan_hash=plan_digest(text),
        pinned_checks=pinned_checks(plan, settings),
        base_commit=git.head(),
        branch=git.current_branch(),
        status="interrupted",
        stop_reason="state rebuilt from the plan and the commits the orchestrator recorded",
        milestones=[MilestoneState(id=m.id, title=m.title) for m in plan.milestones],
    )
    log.warning("state_rebuilt", run_id=run_id, old=str(path))
    return state


def prepare_resume(state: RunState, plan: ExecPlan, settings: Settings) -> None:
    """Ready a stopped run to continue: stopped milestones are validated again."""
    known = {m.id for m in state.milestones}
    for m in plan.milestones:
        if m.id not in known:
            state.milestones.append(MilestoneState(id=m.id, title=m.title))
    for ms in state.milestones:
        if ms.status in ("needs_human", "gave_up"):
            if ms.phase in _WORKED:
                ms.phase = "repaired"
            ms.fingerprints = []  # a fresh repair budget after a human looked at it
            ms.status = "interrupted"
            ms.stop_reason = None
    state.status = "running"
    state.stop_reason = None
    state.ended_at = None
    state.pid = os.getpid()
