"""Folding the event stream of one ``codex exec`` invocation into what a step needs.

``agent_message`` items are provisional until ``turn.completed``: a cut stream
makes codex replay them on its internal retries, so the final message is the
last one seen when the turn completes, and none if it never does.
"""

from __future__ import annotations

from collections import deque

import structlog

from orchestrator.codex.events import (
    AgentMessageItem,
    CommandExecutionItem,
    ErrorEvent,
    Event,
    EventUsage,
    ItemCompleted,
    MalformedLine,
    ThreadStarted,
    TurnCompleted,
    TurnFailed,
    UnknownEvent,
    parse_event,
)
from orchestrator.codex.step import CommandRun
from orchestrator.redact import redact
from orchestrator.ui.events import ProgressEvent

log = structlog.get_logger()


class EventCollector:
    """Feed it stdout lines (``feed``); read the step's facts afterwards."""

    def __init__(self) -> None:
        self.thread_id: str | None = None
        self.turn_started = False
        self.completed = False
        self.failed_message: str | None = None
        self.usage: EventUsage | None = None
        self.provisional_message: str | None = None
        self.final_message: str | None = None
        self.commands: list[CommandRun] = []
        self.errors: deque[str] = deque(maxlen=5)
        self.malformed = 0
        self.unknown = 0
        self.events = 0

    def feed(self, line: str) -> Event | None:
        """Fold one stdout line in; the parsed event (None for a blank line)."""
        if not line.strip():
            return None
        self.events += 1
        event = parse_event(line)
        if isinstance(event, ItemCompleted):
            self._item(event)
        elif isinstance(event, ThreadStarted):
            self.thread_id = event.thread_id
        elif isinstance(event, TurnCompleted):
            self.completed = True
            self.usage = event.usage
            self.final_message = self.provisional_message
        elif isinstance(event, TurnFailed):
            self.failed_message = event.error.message
        elif isinstance(event, ErrorEvent):
            self.errors.append(event.message)
        elif isinstance(event, MalformedLine):
            self.malformed += 1
            log.warning("codex_malformed_line", error=event.error, head=line[:120])
        elif isinstance(event, UnknownEvent):
            self.unknown += 1
        elif event.type == "turn.started":
            self.turn_started = True
        return event

    def _item(self, event: ItemCompleted) -> None:
        item = event.item
        if isinstance(item, AgentMessageItem):
            self.provisional_message = item.text
        elif isinstance(item, CommandExecutionItem):
            run = CommandRun(command=item.command, exit_code=item.exit_code, status=item.status)
            self.commands.append(run)
            log.info(
                ProgressEvent.CODEX_COMMAND.value,
                command=redact(item.command)[:500],
                exit_code=item.exit_code,
                status=item.status,
            )

    def failure_text(self) -> str:
        """Everything that says why the turn failed, for classification."""
        parts = [*self.errors]
        if self.failed_message:
            parts.append(self.failed_message)
        return "\n".join(parts)
