"""Durable run state: ``.agent/runs/<id>/state.json``, written atomically.

The state is saved at every transition (temp file in the same directory,
fsync, ``os.replace``, directory fsync), so a SIGKILL at any moment leaves
either the previous or the next state, never a torn file. A state file that
cannot be read stops the command with a message naming the file, the problem
and the fix; it is never reset silently.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from orchestrator.errors import StateError, StateTamperedError
from orchestrator.store.atomic import atomic_write
from orchestrator.store.records import AnswerSaid as AnswerSaid
from orchestrator.store.records import CheckRecord as CheckRecord
from orchestrator.store.records import CheckVerdict as CheckVerdict
from orchestrator.store.records import CountedTests as CountedTests
from orchestrator.store.records import Finding as Finding
from orchestrator.store.records import StateModel
from orchestrator.store.records import StepKind as StepKind
from orchestrator.store.records import StepRecord as StepRecord
from orchestrator.store.records import VerifyFacts as VerifyFacts
from orchestrator.store.run_files import STATE_FILE as STATE_FILE
from orchestrator.store.run_files import run_dir as run_dir
from orchestrator.store.run_files import same_plan as same_plan
from orchestrator.store.run_files import state_files
from orchestrator.store.run_files import state_path as state_path
from orchestrator.store.seal import seal_problem, write_seal

STATE_VERSION = 1

MilestoneStatus = Literal[
    "pending", "running", "passed", "skipped", "needs_human", "gave_up", "interrupted"
]
RunStatus = Literal[
    "running",
    "passed",
    "needs_human",
    "gave_up",
    "interrupted",
    "budget",
    "unavailable",
    "usage_limit",
    "setup",
    "failed",
]
# A milestone's last completed transition; the loop's state machine (milestone/loop.py).
Phase = Literal[
    "started", "implemented", "validated", "reviewed", "repaired", "approved", "committed"
]
FINISHED: frozenset[str] = frozenset({"passed"})


class MilestoneState(StateModel):
    """Where one milestone stands."""

    id: str
    title: str = ""
    status: MilestoneStatus = "pending"
    attempts: int = Field(0, description="repairs used")
    checkpoint: str | None = Field(None, description="HEAD when the milestone started")
    commit: str | None = Field(None, description="sha of the milestone's commit once passed")
    thread_id: str | None = Field(None, description="the implementing codex thread")
    fingerprints: list[str] = Field(default_factory=list, description="delta per iteration")
    steps: list[StepRecord] = Field(default_factory=list)
    phase: Phase | None = Field(None, description="last completed transition, e.g. 'validated'")
    findings: list[Finding] = Field(default_factory=list, description="open review findings")
    last_checks: list[CheckRecord] = Field(default_factory=list)
    verify: VerifyFacts | None = Field(None, description="verification facts, once collected")
    started_at: float | None = None
    ended_at: float | None = None
    tokens: int = 0
    stop_reason: str | None = Field(None, description="why it stopped, if it did not pass")
    skip_reason: str | None = Field(
        None, description="why this run does not run it (marked done in the plan, a flag)"
    )
    answer: str | None = Field(None, description="a person's answer given with resume --answer")

    @property
    def attempts_made(self) -> int:
        """Attempts as people count them everywhere (status, live view, report, commit
        trailer): the implement step plus each repair; 0 before the milestone starts.
        A step is recorded when it ends, so a milestone that has started counts its first
        attempt while the implement step still runs (the live view counts it from then)."""
        started = (
            self.commit is not None
            or self.started_at is not None
            or any(s.kind in ("implement", "repair") for s in self.steps)
        )
        return self.attempts + 1 if started or self.attempts else 0


class InvocationLimits(StateModel):
    """The budgets one invocation of a run started with (for ``status`` and the report)."""

    max_wall: float | None = Field(None, description="seconds (run.max_wall)")
    deadline: str | None = Field(None, description="HH:MM local time (run.deadline)")
    max_tokens: int | None = Field(None, description="tokens for this invocation")
    total_tokens: int | None = Field(None, description="tokens for the whole run")


_RETIRED_FIELDS = ("settings", "last_event")  # written by earlier versions, never read


class RunState(StateModel):
    """One run of one plan in one repository."""

    version: int = STATE_VERSION
    run_id: str
    plan_path: str = Field(description="plan path relative to the repository, POSIX")
    plan_hash: str = Field("", description="sha256 of the plan as the orchestrator last wrote it")
    pinned_checks: dict[str, list[str]] = Field(
        default_factory=dict, description="milestone id (or 'plan') -> check commands"
    )
    pinned_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="security-relevant settings and program file digests (guard/pins.py)",
    )
    status: RunStatus = "running"
    stop_reason: str | None = None
    created_at: float = Field(default_factory=time.time, description="unix time")
    updated_at: float = Field(default_factory=time.time, description="unix time")
    ended_at: float | None = None
    pid: int = Field(default_factory=os.getpid)
    host: str = Field(default_factory=socket.gethostname)
    base_commit: str | None = Field(None, description="HEAD when the run started")
    branch: str | None = None
    milestones: list[MilestoneState] = Field(default_factory=list)
    current_milestone: str | None = None
    until: str | None = Field(None, description="the last milestone this run runs (--until)")
    redo: list[str] = Field(
        default_factory=list,
        description="milestones run again: their commits from before base_commit do not count",
    )
    tokens_total: int = 0
    invocation_started_at: float | None = Field(None, description="this invocation's start")
    invocation_tokens_start: int = Field(0, description="tokens_total when it started")
    limits: InvocationLimits = Field(
        default_factory=InvocationLimits, description="this invocation's budgets"
    )
    resets_at: float | None = Field(None, description="when a usage limit resets (unix time)")
    handoff_digest: str | None = Field(
        None, description="HEAD and work tree when the run stopped for a person"
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_retired(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(k in data for k in _RETIRED_FIELDS):
            return {k: v for k, v in data.items() if k not in _RETIRED_FIELDS}
        return data

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def interrupt_running(self) -> None:
        """The one place milestones are marked interrupted: those still running (resume
        continues them where their phase says)."""
        for m in self.milestones:
            if m.status == "running":
                m.status = "interrupted"

    def milestone(self, milestone_id: str) -> MilestoneState:
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        raise KeyError(milestone_id)


def new_run_id() -> str:
    """A sortable id: UTC time plus 4 random hex digits, e.g. ``20261121-235959-ab12``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def save_state(path: Path, state: RunState) -> bytes:
    """Stamp ``updated_at``, seal and write ``state`` atomically to ``path``; the bytes."""
    data = encode_state(state)
    write_state(path, data)
    return data


def encode_state(state: RunState) -> bytes:
    """``state`` as its file holds it, stamped with the time of this save."""
    state.updated_at = time.time()
    return state.model_dump_json(indent=2).encode("utf-8") + b"\n"


def write_state(path: Path, data: bytes) -> None:
    """Seal ``data`` and write it atomically to ``path``."""
    write_seal(path, data)  # first: a kill before the rename leaves the old state, still sealed
    atomic_write(path, data)


def _fix(path: Path) -> str:
    return (
        f"The file is left as it is for inspection. To continue, rebuild it from git history "
        f"and the plan with `orchestrator resume --rebuild --run {path.parent.name}`, or move "
        f"{path.parent} away to forget that run."
    )


def _sealed(path: Path, raw: bytes) -> bytes:
    """``raw`` if it matches the state's seal; else StateTamperedError (read twice: a
    reader may race a save)."""
    problem = seal_problem(path, raw)
    if problem is not None:
        raw = path.read_bytes()
        problem = seal_problem(path, raw)
    if problem is None:
        return raw
    try:
        plan = json.loads(raw).get("plan_path")
    except (ValueError, AttributeError):
        plan = None
    raise StateTamperedError(
        f"run state {path} cannot be trusted: {problem}. It is left as it is for inspection. "
        f"To continue, rebuild it from the plan and the commits the orchestrator recorded "
        f"under .git with `orchestrator resume --rebuild --run {path.parent.name} PLAN`, "
        f"or move {path.parent} away to forget that run.",
        plan_path=plan if isinstance(plan, str) else None,
    )


def load_state(path: Path) -> RunState:
    """Read a state file; raises StateError naming the file, the problem and the fix."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StateError(f"run state {path} does not exist") from None
    except OSError as exc:
        raise StateError(
            f"run state {path} cannot be read ({exc.strerror}). {_fix(path)}"
        ) from None
    raw = _sealed(path, raw)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StateError(f"run state {path} is not valid JSON ({exc}). {_fix(path)}") from None
    if not isinstance(data, dict):
        raise StateError(f"run state {path} is not a JSON object. {_fix(path)}")
    version = data.get("version")
    if version != STATE_VERSION:
        what = "has no 'version' field" if version is None else f"has version {version!r}"
        raise StateError(
            f"run state {path} {what}; this orchestrator reads version "
            f"{STATE_VERSION}. Use the orchestrator version that wrote it, or: {_fix(path)}"
        )
    try:
        return RunState.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise StateError(f"run state {path} is invalid: {problems}. {_fix(path)}") from None


def scan_runs(repo: Path) -> tuple[list[RunState], list[StateError]]:
    """Every run of ``repo``, newest first, and the errors of the unreadable ones."""
    runs: list[RunState] = []
    errors: list[StateError] = []
    for f in state_files(repo):
        try:
            runs.append(load_state(f))
        except StateError as exc:
            errors.append(exc)
    # Ids have one-second resolution: two runs in the same second sort by creation time.
    runs.sort(key=lambda r: (r.run_id[:15], r.created_at), reverse=True)
    return runs, errors


def list_runs(repo: Path) -> list[RunState]:
    """Readable runs of ``repo``, newest first; unreadable ones are logged and skipped."""
    runs, errors = scan_runs(repo)
    if errors:
        import structlog

        log = structlog.get_logger()
        for exc in errors:
            log.warning("state_unreadable", error=exc.message)
    return runs


def newest_run(repo: Path, plan_path: str | None = None) -> RunState | None:
    """The newest readable run of ``plan_path`` (of any plan if None), whatever its status."""
    for run in list_runs(repo):
        if plan_path is None or same_plan(run.plan_path, plan_path):
            return run
    return None


def raise_if_tampered(repo: Path, plan_path: str | None) -> None:
    """A tampered state is never skipped silently: it would look like no run at all."""
    for exc in scan_runs(repo)[1]:
        if isinstance(exc, StateTamperedError) and (
            plan_path is None or exc.plan_path is None or same_plan(exc.plan_path, plan_path)
        ):
            raise exc


def find_unfinished(repo: Path, plan_path: str) -> RunState | None:
    """The newest run of ``plan_path`` if it did not pass (running, stopped or interrupted).

    An older unfinished run is superseded by a newer one and is not returned. A run of
    the plan whose state was tampered with stops the command (StateTamperedError).
    """
    raise_if_tampered(repo, plan_path)
    run = newest_run(repo, plan_path)
    return None if run is None or run.finished else run
