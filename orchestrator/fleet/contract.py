"""What crosses the Temporal boundary: workflow input, activity requests and results.

Plain frozen dataclasses (Temporal's default converter speaks them); nothing here
imports anything that is not deterministic, so the workflow sandbox can load it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

WORKFLOW_NAME = "orchestrator.plan"
CLAIM_ACTIVITY = "orchestrator.claim_host"
RUN_ACTIVITY = "orchestrator.run_plan"
ANSWER_SIGNAL = "answer"
PROGRESS_QUERY = "progress"
DEFAULT_TASK_QUEUE = "orchestrator"


@dataclass(frozen=True)
class PlanInput:
    """One (repository, plan) for the fleet."""

    repo: str
    plan: str
    branch: str
    task_queue: str = DEFAULT_TASK_QUEUE
    heartbeat_s: float = 60.0
    max_runs: int = 50


@dataclass(frozen=True)
class RunRequest:
    """One ``orchestrator run`` (or resume) of the plan on the worker that owns its tree."""

    workflow_id: str
    repo: str
    plan: str
    branch: str
    answer: str | None = None
    heartbeat_s: float = 60.0


@dataclass(frozen=True)
class RunResult:
    """How one invocation on the worker ended."""

    exit_code: int
    status: str
    milestone: str | None = None
    reason: str | None = None
    question: str | None = None
    resume_at: float | None = None
    pushed: str | None = None
    tokens: int = 0


@dataclass(frozen=True)
class Progress:
    """What ``orchestrator fleet status`` shows of a running workflow."""

    state: str
    host_queue: str | None
    runs: int
    last: RunResult | None
    next_step: str


def workflow_id(repo: str, plan: str) -> str:
    """The same (repository, plan) always maps to the same workflow id."""
    digest = hashlib.sha256(f"{repo}\n{plan}".encode()).hexdigest()[:12]
    name = repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "repo"
    stem = plan.rsplit("/", 1)[-1].removesuffix(".md")
    return f"plan-{name}-{stem}-{digest}"


def branch_for(plan: str) -> str:
    stem = plan.rsplit("/", 1)[-1].removesuffix(".md")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem.lower()).strip("-")
    return f"orchestrator/{safe or 'plan'}"
