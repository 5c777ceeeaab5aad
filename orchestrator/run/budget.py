"""Budgets: wall-clock (``--max-wall``), a local deadline (``--deadline HH:MM``), tokens.

``--max-wall``, ``--deadline`` and ``--max-tokens`` bound one invocation (a night):
the clock starts and the token count restarts each time ``run``/``resume`` runs.
``--max-total-tokens`` (``budget.total_tokens``) bounds the whole run.

The supervisor asks :meth:`Budget.stop_reason` before each milestone (and
before each step, with ``in_milestone=True``) and clamps each step's timeout
with :meth:`Budget.step_timeout`. Deadline rule: no milestone starts after the
deadline; a running one may go on until the deadline plus
``run.deadline_grace``. Clocks are injected so tests need not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestrator.settings.durations import format_duration
from orchestrator.settings.model import RunSettings, Settings
from orchestrator.store.state import InvocationLimits, RunState

MIN_STEP_TIMEOUT = 1.0


def next_deadline(clock_time: str, after: float) -> float:
    """The first local ``HH:MM`` at or after timestamp ``after`` (tomorrow if already past)."""
    hours, minutes = (int(part) for part in clock_time.split(":"))
    start = datetime.fromtimestamp(after).astimezone()
    target = start.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if target.timestamp() < after:
        target = (start + timedelta(days=1)).replace(
            hour=hours, minute=minutes, second=0, microsecond=0
        )
    return target.timestamp()


@dataclass(frozen=True)
class Budget:
    """Limits of one run, measured from ``started_at`` with clock ``now``."""

    started_at: float
    max_wall: float | None = None
    deadline: str | None = None
    deadline_at: float | None = None
    deadline_grace: float = 0.0
    max_tokens: int | None = None
    tokens_at_start: int = 0  # the run's token count when this invocation started
    total_tokens: int | None = None
    now: Callable[[], float] = field(default=time.time, compare=False)

    @classmethod
    def from_settings(
        cls,
        run: RunSettings,
        started_at: float,
        now: Callable[[], float] = time.time,
        *,
        tokens_at_start: int = 0,
        total_tokens: int | None = None,
    ) -> Budget:
        """The budget of an invocation that started at ``started_at``."""
        deadline_at = next_deadline(run.deadline, started_at) if run.deadline else None
        return cls(
            started_at=started_at,
            max_wall=run.max_wall,
            deadline=run.deadline,
            deadline_at=deadline_at,
            deadline_grace=run.deadline_grace,
            max_tokens=run.max_tokens,
            tokens_at_start=tokens_at_start,
            total_tokens=total_tokens,
            now=now,
        )

    def stop_reason(self, tokens_total: int, *, in_milestone: bool = False) -> str | None:
        """Why the run must stop now, or None.

        ``in_milestone=True`` (before a step of a milestone already running)
        lets the deadline's grace period apply.
        """
        now = self.now()
        if self.max_wall is not None and now - self.started_at >= self.max_wall:
            return f"max-wall {format_duration(self.max_wall)} reached"
        if self.deadline_at is not None:
            limit = self.deadline_at + (self.deadline_grace if in_milestone else 0.0)
            if now >= limit:
                grace = f" (+{format_duration(self.deadline_grace)} grace)" if in_milestone else ""
                return f"deadline {self.deadline}{grace} passed"
        if self.max_tokens is not None and tokens_total - self.tokens_at_start >= self.max_tokens:
            return f"max-tokens {self.max_tokens} reached"
        if self.total_tokens is not None and tokens_total >= self.total_tokens:
            return f"max-total-tokens {self.total_tokens} reached (the whole run)"
        return None

    def remaining(self) -> float | None:
        """Seconds a running step may still take (wall budget, deadline + grace), or None."""
        now = self.now()
        limits: list[float] = []
        if self.max_wall is not None:
            limits.append(self.started_at + self.max_wall - now)
        if self.deadline_at is not None:
            limits.append(self.deadline_at + self.deadline_grace - now)
        return min(limits) if limits else None

    def step_timeout(self, default: float) -> float:
        """``default`` clamped to the remaining time (never below one second)."""
        remaining = self.remaining()
        if remaining is None:
            return default
        return max(MIN_STEP_TIMEOUT, min(default, remaining))


def start_invocation(state: RunState, settings: Settings, started_at: float) -> Budget:
    """The budget of this invocation of a run, recorded in its state (for status)."""
    state.invocation_started_at = started_at
    state.invocation_tokens_start = state.tokens_total
    state.limits = InvocationLimits(
        max_wall=settings.run.max_wall,
        deadline=settings.run.deadline,
        max_tokens=settings.run.max_tokens,
        total_tokens=settings.budget.total_tokens,
    )
    return Budget.from_settings(
        settings.run,
        started_at,
        tokens_at_start=state.tokens_total,
        total_tokens=settings.budget.total_tokens,
    )
