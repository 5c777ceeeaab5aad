"""What a person watching a run needs to see, built only from progress events.

The log setup (:mod:`orchestrator.ui.logs`) feeds every record into a
:class:`RunView`; :mod:`orchestrator.ui.live` renders it. Nothing else calls the
display, so the supervisor only logs. Pure data: no terminal, no rich.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.ui.events import ProgressEvent


@dataclass
class MilestoneView:
    """One milestone line of the status area."""

    id: str
    title: str = ""
    status: str = "pending"
    attempts: int = 0
    commit: str | None = None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class RunView:
    """The state of a run as the progress events describe it."""

    clock: Callable[[], float] = time.time
    run_id: str | None = None
    plan: str | None = None
    status: str = "waiting"
    started_at: float | None = None
    milestones: list[MilestoneView] = field(default_factory=list)
    milestone: str | None = None
    step: str | None = None
    attempt: int | None = None
    step_started_at: float | None = None
    step_duration: float | None = None
    last_command: str | None = None
    last_command_exit: int | None = None
    running_command: str | None = None
    running_since: float | None = None
    running_polls: int = 0
    tokens_total: int = 0
    last_checks: str | None = None
    last_review: str | None = None
    last_retry: str | None = None
    step_problem: str | None = None
    reason: str | None = None
    waiting_until: float | None = None  # a usage-limit wait ends then (unix time)
    exit_code: int | None = None
    events_seen: int = 0

    def _milestone(self, milestone_id: Any) -> MilestoneView:
        key = str(milestone_id)
        for m in self.milestones:
            if m.id == key:
                return m
        view = MilestoneView(id=key)
        self.milestones.append(view)
        return view

    def apply(self, record: Mapping[str, Any]) -> None:
        """Update from one log record; records that are not progress events are ignored."""
        try:
            event = ProgressEvent(str(record.get("event")))
        except ValueError:
            return
        self.events_seen += 1
        handler = getattr(self, f"_on_{event.value}")
        handler(record)

    def _on_run_started(self, r: Mapping[str, Any]) -> None:
        self.run_id = r.get("run_id") or self.run_id
        self.plan = r.get("plan") or self.plan
        self.status = "running"
        self.started_at = self.clock()
        listed = r.get("milestones") or []
        if isinstance(listed, list):
            for item in listed:
                if isinstance(item, Mapping):
                    m = self._milestone(item.get("id"))
                    m.title = str(item.get("title") or m.title)
                    m.status = str(item.get("status") or m.status)

    def _on_milestone_skipped(self, r: Mapping[str, Any]) -> None:
        m = self._milestone(r.get("milestone"))
        m.title = str(r.get("title") or m.title)
        m.status = "skipped"

    def _on_milestone_started(self, r: Mapping[str, Any]) -> None:
        m = self._milestone(r.get("milestone"))
        m.title = str(r.get("title") or m.title)
        m.status = "running"
        self.milestone = m.id
        self.step_problem = None
        self.step = None
        self.attempt = None
        self.last_command = None
        self.last_command_exit = None
        self.last_checks = None
        self.last_review = None

    def _on_step_started(self, r: Mapping[str, Any]) -> None:
        self.waiting_until = None
        if r.get("milestone") is not None:
            self.milestone = str(r.get("milestone"))
        self.step = r.get("step")
        self.attempt = _int(r.get("attempt"), 0)
        self.step_started_at = self.clock()
        self.step_duration = None
        self.last_retry = None
        self.step_problem = None
        self._command_done()
        self.last_command = None  # the last command belongs to the step that ran it
        self.last_command_exit = None
        if self.milestone is not None:
            m = self._milestone(self.milestone)
            m.attempts = max(m.attempts, self.attempt)

    def _on_codex_command_started(self, r: Mapping[str, Any]) -> None:
        self.running_command = str(r.get("command") or "")
        self.running_since = self.clock()
        self.running_polls = 0

    def _on_codex_command_polled(self, r: Mapping[str, Any]) -> None:
        self._on_codex_command_running(r)

    def _on_codex_command_running(self, r: Mapping[str, Any]) -> None:
        self.running_command = str(r.get("command") or self.running_command or "")
        try:
            self.running_since = self.clock() - float(r["elapsed_s"])
        except (KeyError, TypeError, ValueError):
            self.running_since = self.running_since or self.clock()
        self.running_polls = _int(r.get("polls"), self.running_polls)

    def _on_codex_command(self, r: Mapping[str, Any]) -> None:
        self.last_command = str(r.get("command") or "")
        code = r.get("exit_code")
        self.last_command_exit = None if code is None else _int(code)
        self._command_done()

    def _command_done(self) -> None:
        self.running_command = None
        self.running_since = None
        self.running_polls = 0

    def _on_step_finished(self, r: Mapping[str, Any]) -> None:
        self._command_done()
        reason = r.get("reason")
        self.step_problem = f"{r.get('outcome')}: {reason}" if reason else None
        self.tokens_total = _int(r.get("tokens_total"), self.tokens_total)
        try:
            self.step_duration = float(r["duration_s"])
        except (KeyError, TypeError, ValueError):
            self.step_duration = self.step_elapsed()
        self.step_started_at = None

    def _on_step_retry(self, r: Mapping[str, Any]) -> None:
        self.last_retry = (
            f"retry {r.get('attempt_no')}/{r.get('max_attempts')}: {r.get('reason')}"
            f" (waiting {r.get('wait_s')}s)"
        )

    def _on_checks_started(self, r: Mapping[str, Any]) -> None:
        self.step = "checks"
        self.attempt = _int(r.get("attempt"), self.attempt or 0)
        self.step_started_at = self.clock()
        self.step_duration = None
        self.last_command = None
        self.last_command_exit = None
        self.last_checks = None

    def _on_checks_finished(self, r: Mapping[str, Any]) -> None:
        if self.step == "checks" and self.step_started_at is not None:
            self.step_duration = self.step_elapsed()
            self.step_started_at = None
        failed = r.get("failed") or []
        failed_list = [str(f) for f in failed] if isinstance(failed, list) else [str(failed)]
        text = f"{_int(r.get('passed'))} passed, {len(failed_list)} failed"
        if failed_list:
            text += ": " + ", ".join(failed_list)
        self.last_checks = text

    def _on_review_verdict(self, r: Mapping[str, Any]) -> None:
        self.last_review = f"{r.get('verdict')} ({_int(r.get('findings'))} findings)"

    def _on_milestone_finished(self, r: Mapping[str, Any]) -> None:
        m = self._milestone(r.get("milestone") or self.milestone)
        m.status = str(r.get("status") or "finished")
        m.attempts = _int(r.get("attempts"), m.attempts)
        commit = r.get("commit")
        m.commit = str(commit) if commit else None
        self.step = None
        self.step_started_at = None

    def _on_usage_limit_wait(self, r: Mapping[str, Any]) -> None:
        until = r.get("until")
        self.waiting_until = float(until) if isinstance(until, int | float) else None
        self.reason = r.get("reason")

    def waiting_left(self) -> float | None:
        """Seconds left of a usage-limit wait, or None when not waiting."""
        if self.waiting_until is None:
            return None
        left = self.waiting_until - self.clock()
        return left if left > 0 else None

    def _on_run_finished(self, r: Mapping[str, Any]) -> None:
        self.waiting_until = None
        self.status = str(r.get("status") or "finished")
        self.exit_code = None if r.get("exit_code") is None else _int(r.get("exit_code"))
        self.tokens_total = _int(r.get("tokens_total"), self.tokens_total)
        self.reason = r.get("reason")
        self.step = None
        self.step_started_at = None
        self._command_done()
        for m in self.milestones:  # a stop mid-milestone (Ctrl-C, budget) ends it too
            if m.status == "running":
                m.status = self.status

    def run_elapsed(self) -> float:
        """Seconds since the run started (0 before it did)."""
        return 0.0 if self.started_at is None else max(0.0, self.clock() - self.started_at)

    def command_elapsed(self) -> float | None:
        """Seconds the command in flight has run, or None when none runs."""
        if self.running_since is None:
            return None
        return max(0.0, self.clock() - self.running_since)

    def step_elapsed(self) -> float | None:
        """Seconds since the current step started, or None between steps."""
        if self.step_started_at is None:
            return None
        return max(0.0, self.clock() - self.step_started_at)
