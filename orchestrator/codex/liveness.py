"""Whether a ``codex exec`` step is working or stuck, from what codex actually does.

``codex exec --json`` prints nothing while a command runs, even while the model
keeps polling it with ``write_stdin``, so "no stdout for N seconds" is not "stuck".
A step is alive while any of these signals moves:

- **events**: a JSONL line on stdout;
- **command in flight**: an ``item.started`` command_execution without its
  ``item.completed`` (a test suite, a build, a migration);
- **session file**: new entries in the thread's rollout file (each poll, tool
  output and token count lands there as it happens; :mod:`.rollout`).

A step is *stalled* when no command is in flight and neither events nor the
session file moved for ``stall_timeout``. A command in flight has its own bound,
``command_timeout``: past it the step ends with a reason naming the command
(whether or not the model still polls it). The wall-clock ``step_timeout`` is
enforced by the process layer, which consults :meth:`Liveness.check` as its
:class:`~orchestrator.process.child.Watchdog`.

The process tree's CPU time is deliberately not a signal: heavy work happens in
commands, which are covered above, and an idle codex's background threads make
CPU time creep without any work being done.

While a command runs, :data:`ProgressEvent.CODEX_COMMAND_RUNNING` is logged at
growing intervals (so a long test run shows as alive in the live view and the
progress lines), with how long it has run and how often the model polled it;
:data:`ProgressEvent.CODEX_COMMAND_POLLED` follows each poll (live view only).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from orchestrator.codex.events import (
    CommandExecutionItem,
    Event,
    ItemCompleted,
    ItemStarted,
    ThreadStarted,
)
from orchestrator.codex.rollout import RolloutFile
from orchestrator.process.child import Verdict
from orchestrator.redact import redact
from orchestrator.settings.durations import format_duration
from orchestrator.ui.events import ProgressEvent
from orchestrator.ui.text import polled

log = structlog.get_logger()

FIRST_HEARTBEAT = 30.0  # seconds into a command before the first "still running" record
MAX_HEARTBEAT_GAP = 600.0  # the gap doubles up to this


@dataclass
class CommandInFlight:
    """A command codex started and has not finished."""

    item_id: str
    command: str
    started: float
    polls: int = 0
    next_heartbeat: float = 0.0


def short_command(command: str, limit: int = 200) -> str:
    """The command as the model wrote it (codex wraps it in ``/bin/bash -lc '…'``)."""
    for prefix in ("/bin/bash -lc ", "bash -lc ", "/bin/sh -c ", "sh -c "):
        if command.startswith(prefix):
            inner = command[len(prefix) :]
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                inner = inner[1:-1]
            command = inner
            break
    text = redact(" ".join(command.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Liveness:
    """The liveness signals of one codex invocation; feed it events, ask :meth:`check`."""

    def __init__(
        self,
        *,
        stall_timeout: float,
        command_timeout: float,
        codex_home: Path | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stall_timeout = stall_timeout
        self.command_timeout = command_timeout
        self.codex_home = codex_home
        self.clock = clock
        start = clock()
        self.last_event = start
        self.last_session_entry = start
        self.rollout: RolloutFile | None = None
        self.in_flight: dict[str, CommandInFlight] = {}
        self.polls = 0
        self.verdict: Verdict | None = None

    @property
    def interval(self) -> float:
        """How often the process layer consults :meth:`check`."""
        return max(0.1, min(1.0, self.stall_timeout / 4, self.command_timeout / 4))

    def saw(self, event: Event) -> None:
        """One parsed stdout event."""
        now = self.clock()
        self.last_event = now
        if isinstance(event, ThreadStarted) and self.codex_home is not None:
            self.rollout = RolloutFile(self.codex_home, event.thread_id)
        elif isinstance(event, ItemStarted) and isinstance(event.item, CommandExecutionItem):
            command = short_command(event.item.command)
            first = min(FIRST_HEARTBEAT, self.stall_timeout)
            self.in_flight[event.item.id] = CommandInFlight(
                event.item.id, command, now, next_heartbeat=now + first
            )
            log.info(ProgressEvent.CODEX_COMMAND_STARTED.value, command=command)
        elif isinstance(event, ItemCompleted) and isinstance(event.item, CommandExecutionItem):
            self.in_flight.pop(event.item.id, None)

    def check(self, now: float, last_output: float) -> Verdict | None:
        """None while codex works; a verdict (stalled, or a command over its bound) otherwise."""
        self.verdict = self._judge(now, last_output)
        return self.verdict

    def _judge(self, now: float, last_output: float) -> Verdict | None:
        self._read_session(now)
        for command in list(self.in_flight.values()):
            ran = now - command.started
            if ran >= self.command_timeout:
                return Verdict(
                    ended="timeout",
                    reason=(
                        f"the command `{command.command}` ran for {format_duration(ran)}, past"
                        f" codex.command_timeout ({format_duration(self.command_timeout)});"
                        f" {polled(command.polls)}"
                    ),
                )
            if now >= command.next_heartbeat:
                self._heartbeat(command, now)
        if self.in_flight:
            return None
        quiet_since = max(self.last_event, last_output, self.last_session_entry)
        if now - quiet_since < self.stall_timeout:
            return None
        return Verdict(ended="stalled", reason=self.quiet_reason(now, last_output))

    def quiet_reason(self, now: float, last_output: float) -> str:
        """Which signals went quiet, for the stall message."""
        events = now - max(self.last_event, last_output)
        if self.rollout is None:
            session = "no session started (no thread id yet)"
        elif self.rollout.path is None:
            session = f"no session file found for thread {self.rollout.thread_id}"
        else:
            session = f"no session file entry for {format_duration(now - self.last_session_entry)}"
        return (
            f"codex did nothing for codex.stall_timeout ({format_duration(self.stall_timeout)}):"
            f" no JSONL event for {format_duration(events)}, no command in flight, {session}"
        )

    def _read_session(self, now: float) -> None:
        if self.rollout is None:
            return
        news = self.rollout.look()
        if news.entries:
            self.last_session_entry = now
        if news.polls:
            self.polls += news.polls
            if self.in_flight:
                newest = max(self.in_flight.values(), key=lambda c: c.started)
                newest.polls += news.polls
                log.info(
                    ProgressEvent.CODEX_COMMAND_POLLED.value,
                    command=newest.command,
                    elapsed_s=round(now - newest.started, 1),
                    polls=newest.polls,
                )

    def _heartbeat(self, command: CommandInFlight, now: float) -> None:
        ran = now - command.started
        log.info(
            ProgressEvent.CODEX_COMMAND_RUNNING.value,
            command=command.command,
            elapsed_s=round(ran, 1),
            polls=command.polls,
        )
        gap = min(max(ran, 1.0), MAX_HEARTBEAT_GAP)
        command.next_heartbeat = now + gap
