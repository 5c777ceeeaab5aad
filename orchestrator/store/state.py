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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.codex import Outcome
from orchestrator.errors import StateError, StateTamperedError
from orchestrator.process import Ended
from orchestrator.store.atomic import atomic_write
from orchestrator.store.run_files import STATE_FILE as STATE_FILE
from orchestrator.store.run_files import run_dir as run_dir
from orchestrator.store.run_files import same_plan as same_plan
from orchestrator.store.run_files import state_files
from orchestrator.store.run_files import state_path as state_path
from orchestrator.store.seal import seal_problem, write_seal

STATE_VERSION = 1

StepKind = Literal["implement", "review", "repair", "validate"]
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
# A validation pass: every check passed, or not.
CheckVerdict = Literal["passed", "failed"]
# What the agent's final answer said: the work step's status or the review's verdict;
# "invalid" when it was not the JSON its schema asks for.
AnswerSaid = Literal["done", "blocked", "needs_human", "approve", "changes_requested", "invalid"]


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StepRecord(_State):
    """One codex step (or validation pass) of a milestone."""

    kind: StepKind
    attempt: int = Field(0, description="0 = implement, k = k-th repair")
    thread_id: str | None = Field(None, description="codex thread of the step")
    outcome: Outcome | CheckVerdict | None = Field(
        None, description="how the codex step ended, or a validation pass's verdict"
    )
    answer: AnswerSaid | None = Field(None, description="what the agent's final answer said")
    transcript: str | None = Field(None, description="transcript path, relative to the run dir")
    started_at: float | None = Field(None, description="unix time")
    ended_at: float | None = Field(None, description="unix time")
    tokens: int = Field(0, description="tokens this step used (delta, not cumulative)")
    summary: str | None = Field(None, description="the step's short summary or verdict")

    @model_validator(mode="before")
    @classmethod
    def _split_old_outcome(cls, data: Any) -> Any:
        """Earlier versions kept both in one string: ``ok/<status or verdict>`` and
        ``invalid_answer`` (an OK step whose answer was unusable)."""
        if not isinstance(data, dict) or data.get("answer") is not None:
            return data
        old = data.get("outcome")
        if old == "invalid_answer":
            return {**data, "outcome": "ok", "answer": "invalid"}
        if isinstance(old, str) and old.startswith("ok/"):
            return {**data, "outcome": "ok", "answer": old.removeprefix("ok/")}
        return data

    @property
    def label(self) -> str | None:
        """The outcome as reports and status show it: ``ok/approve``, ``invalid_answer``,
        ``transient``, ``passed``; None while the step runs."""
        if self.answer == "invalid":
            return "invalid_answer"
        if self.answer is not None:
            return f"{self.outcome}/{self.answer}"
        return None if self.outcome is None else str(self.outcome)


class CountedTests(_State):
    """What the tests of one check did, as the orchestrator counted them."""

    source: Literal["pytest", "unittest", "go", "cargo", "jest"] = Field(
        description="pytest (through our plugin), else read from the output"
    )
    sessions: int = Field(1, description="test runs the check made (pytest sessions)")
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    deselected: int = 0


class CheckRecord(_State):
    """The result of one validation command (``checks.CheckResult`` is this shape)."""

    check_id: str
    command: str
    exit_code: int | None = Field(description="None if killed or never started")
    passed: bool
    ended: Ended = Field(description="how the check's process ended")
    duration_s: float
    output_tail: str = Field("", description="bounded, redacted end of the output")
    tests: CountedTests | None = Field(None, description="tests counted, when the check ran any")
    notes: list[str] = Field(
        default_factory=list, description="why the verdict differs from the exit code"
    )


class VerifyFacts(_State):
    """What verification learnt about a milestone (see docs/verification.md)."""

    baseline: list[CheckRecord] | None = Field(
        None, description="the milestone's checks run on its checkpoint, before any step"
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="path -> sha256 of start-up hooks (.pth) at checkpoint"
    )
    tests_may_change: bool = Field(False, description="the plan says this milestone changes tests")
    changed_protected: list[str] = Field(
        default_factory=list, description="protected paths the candidate changed"
    )
    weakening: list[str] = Field(
        default_factory=list, description="findings of the weakening analysis"
    )
    sandboxed: bool | None = Field(None, description="whether the checks ran in the sandbox")


class Finding(_State):
    """One review finding: what the reviewer wants changed (also the answer schema's item)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Literal["blocker", "major", "minor"]
    path: str | None
    message: str

    def line(self, *, markdown: bool = False) -> str:
        """One line for prompts, fingerprints and (``markdown``) reports."""
        if not self.path:
            return f"[{self.severity}] {self.message}"
        where = f"`{self.path}`" if markdown else self.path
        return f"[{self.severity}] {where}: {self.message}"


class MilestoneState(_State):
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


class InvocationLimits(_State):
    """The budgets one invocation of a run started with (for ``status`` and the report)."""

    max_wall: float | None = Field(None, description="seconds (run.max_wall)")
    deadline: str | None = Field(None, description="HH:MM local time (run.deadline)")
    max_tokens: int | None = Field(None, description="tokens for this invocation")
    total_tokens: int | None = Field(None, description="tokens for the whole run")


_RETIRED_FIELDS = ("settings", "last_event")  # written by earlier versions, never read


class RunState(_State):
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
    state.updated_at = time.time()
    data = state.model_dump_json(indent=2).encode("utf-8") + b"\n"
    write_seal(path, data)  # first: a kill before the rename leaves the old state, still sealed
    atomic_write(path, data)
    return data


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
