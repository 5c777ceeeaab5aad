"""The JSONL events of ``codex exec --json`` (0.169) as pydantic models.

:func:`parse_event` never raises: a line that is not a JSON object becomes a
:class:`MalformedLine`, an event or item type we do not know (codex adds types
before we do) becomes :class:`UnknownEvent` / :class:`UnknownItem` holding the
decoded data (logged once per type), and extra fields are kept, not rejected.
Every event keeps the raw line in ``raw``.

Parsing dispatches on the ``type`` string to one model class instead of
trying a union, which keeps it within a small factor of a bare ``json.loads``
(see ``bench/bench_event_parser.py``).
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

log = structlog.get_logger()


class _Open(BaseModel):
    # Validators are built at the first event, not at import: the first line comes while
    # the first ``codex exec`` still runs, so building then delays nothing.
    model_config = ConfigDict(extra="allow", defer_build=True)


# --- items -------------------------------------------------------------------------


class _Item(_Open):
    id: str = ""


class AgentMessageItem(_Item):
    type: Literal["agent_message"] = "agent_message"
    text: str = ""


class ReasoningItem(_Item):
    type: Literal["reasoning"] = "reasoning"
    text: str = ""


class CommandExecutionItem(_Item):
    type: Literal["command_execution"] = "command_execution"
    command: str = ""
    aggregated_output: str = ""
    exit_code: int | None = None
    status: str = "in_progress"  # in_progress | completed | failed | declined


class FileUpdate(_Open):
    path: str
    kind: str  # add | delete | update


class FileChangeItem(_Item):
    type: Literal["file_change"] = "file_change"
    changes: list[FileUpdate] = Field(default_factory=list)
    status: str = "in_progress"


class ErrorInfo(_Open):
    message: str = ""


class McpToolCallItem(_Item):
    type: Literal["mcp_tool_call"] = "mcp_tool_call"
    server: str = ""
    tool: str = ""
    arguments: Any = None
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    status: str = "in_progress"


class CollabToolCallItem(_Item):
    type: Literal["collab_tool_call"] = "collab_tool_call"
    tool: str = ""
    sender_thread_id: str | None = None
    receiver_thread_ids: list[str] = Field(default_factory=list)
    prompt: str | None = None
    agents_states: dict[str, Any] = Field(default_factory=dict)
    status: str = "in_progress"


class WebSearchItem(_Item):
    """Note: codex repeats the ``id`` key; JSON parsing keeps the model's (``ws_…``)."""

    type: Literal["web_search"] = "web_search"
    query: str = ""
    action: dict[str, Any] | None = None


class TodoEntry(_Open):
    text: str = ""
    completed: bool = False


class TodoListItem(_Item):
    type: Literal["todo_list"] = "todo_list"
    items: list[TodoEntry] = Field(default_factory=list)


class ErrorItem(_Item):
    type: Literal["error"] = "error"
    message: str = ""


class PlanItem(_Item):
    type: Literal["plan"] = "plan"
    text: str = ""


class UnknownItem(_Item):
    """An item type we do not model (or one that failed validation)."""

    type: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


Item = (
    AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | CollabToolCallItem
    | WebSearchItem
    | TodoListItem
    | ErrorItem
    | PlanItem
    | UnknownItem
)

_ITEMS: dict[str, type[_Item]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        AgentMessageItem,
        ReasoningItem,
        CommandExecutionItem,
        FileChangeItem,
        McpToolCallItem,
        CollabToolCallItem,
        WebSearchItem,
        TodoListItem,
        ErrorItem,
        PlanItem,
    )
}

# --- events ------------------------------------------------------------------------


class _Event(_Open):
    raw: str = Field("", exclude=True, repr=False, description="the line as read")


class ThreadStarted(_Event):
    type: Literal["thread.started"] = "thread.started"
    thread_id: str


class TurnStarted(_Event):
    type: Literal["turn.started"] = "turn.started"


class EventUsage(_Open):
    """Token usage; cumulative for the whole thread, not this turn."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0


class TurnCompleted(_Event):
    type: Literal["turn.completed"] = "turn.completed"
    usage: EventUsage = Field(default_factory=EventUsage)


class TurnFailed(_Event):
    type: Literal["turn.failed"] = "turn.failed"
    error: ErrorInfo = Field(default_factory=ErrorInfo)


class ItemStarted(_Event):
    type: Literal["item.started"] = "item.started"
    item: Item


class ItemUpdated(_Event):
    type: Literal["item.updated"] = "item.updated"
    item: Item


class ItemCompleted(_Event):
    type: Literal["item.completed"] = "item.completed"
    item: Item


class ErrorEvent(_Event):
    """A retry notice or the fatal error before turn.failed; not fatal by itself."""

    type: Literal["error"] = "error"
    message: str = ""


class PlanDelta(_Event):
    type: Literal["item.plan.delta"] = "item.plan.delta"
    item_id: str = ""
    delta: str = ""


class RequestUserInput(_Event):
    type: Literal["request_user_input"] = "request_user_input"
    id: str = ""
    call_id: str = ""
    questions: list[Any] = Field(default_factory=list)


class UnknownEvent(_Event):
    """An event type we do not model (or one that failed validation)."""

    type: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class MalformedLine(_Event):
    """A line that is not a JSON object (e.g. truncated)."""

    type: Literal["malformed"] = "malformed"
    error: str = ""


Event = (
    ThreadStarted
    | TurnStarted
    | TurnCompleted
    | TurnFailed
    | ItemStarted
    | ItemUpdated
    | ItemCompleted
    | ErrorEvent
    | PlanDelta
    | RequestUserInput
    | UnknownEvent
    | MalformedLine
)

_SIMPLE: dict[str, type[_Event]] = {
    "thread.started": ThreadStarted,
    "turn.started": TurnStarted,
    "turn.completed": TurnCompleted,
    "turn.failed": TurnFailed,
    "error": ErrorEvent,
    "item.plan.delta": PlanDelta,
    "request_user_input": RequestUserInput,
}
_ITEM_EVENTS: dict[str, type[ItemStarted | ItemUpdated | ItemCompleted]] = {
    "item.started": ItemStarted,
    "item.updated": ItemUpdated,
    "item.completed": ItemCompleted,
}
_seen_unknown: set[str] = set()

KnownItem = Annotated[
    AgentMessageItem
    | ReasoningItem
    | CommandExecutionItem
    | FileChangeItem
    | McpToolCallItem
    | CollabToolCallItem
    | WebSearchItem
    | TodoListItem
    | ErrorItem
    | PlanItem,
    Field(discriminator="type"),
]


class _KnownItemStarted(ItemStarted):
    item: KnownItem


class _KnownItemUpdated(ItemUpdated):
    item: KnownItem


class _KnownItemCompleted(ItemCompleted):
    item: KnownItem


# The common case in one pass of pydantic-core over the JSON text: every known event
# type, item events only with known item types. Anything else falls back to _slow.
# Built at the first parse (see _Open).
_FastEvent = Annotated[
    ThreadStarted
    | TurnStarted
    | TurnCompleted
    | TurnFailed
    | _KnownItemStarted
    | _KnownItemUpdated
    | _KnownItemCompleted
    | ErrorEvent
    | PlanDelta
    | RequestUserInput,
    Field(discriminator="type"),
]


@functools.cache
def _fast_adapter() -> TypeAdapter[_FastEvent]:
    return TypeAdapter(_FastEvent)


def _note_unknown(kind: str, name: str) -> None:
    key = f"{kind}:{name}"
    if key not in _seen_unknown:
        _seen_unknown.add(key)
        log.info("codex_unknown_type", kind=kind, type=name)


def parse_item(data: dict[str, Any]) -> Item:
    """One item; unknown or invalid items become :class:`UnknownItem`."""
    name = data.get("type")
    cls = _ITEMS.get(name) if isinstance(name, str) else None
    if cls is not None:
        try:
            return cls.model_validate(data)  # type: ignore[return-value]
        except ValidationError:
            pass
    _note_unknown("item", str(name))
    item_id = data.get("id")
    return UnknownItem(
        id=item_id if isinstance(item_id, str) else "", type=str(name or ""), data=data
    )


def _fast(line: str) -> Event | None:
    """The common case, parsed and validated by pydantic-core in one pass; None to fall back."""
    try:
        event: Event = _fast_adapter().validate_json(line)
    except ValidationError:
        return None
    event.raw = line
    return event


def parse_event(line: str) -> Event:
    """Parse one stdout line of ``codex exec --json``. Never raises."""
    event = _fast(line)
    if event is not None:
        return event
    return _slow(line)


def _slow(line: str) -> Event:
    try:
        data = json.loads(line)
    except ValueError as exc:
        return MalformedLine(raw=line, error=f"not JSON: {exc}")
    if not isinstance(data, dict):
        return MalformedLine(raw=line, error="not a JSON object")
    name = data.get("type")
    if not isinstance(name, str):
        return MalformedLine(raw=line, error="no string `type`")
    item_cls = _ITEM_EVENTS.get(name)
    if item_cls is not None:
        item = data.get("item")
        if isinstance(item, dict):
            return item_cls.model_construct(item=parse_item(item), raw=line)
        return UnknownEvent(type=name, data=data, raw=line, error="item is not an object")
    cls = _SIMPLE.get(name)
    if cls is not None:
        try:
            event = cls.model_validate(data)
        except ValidationError as exc:
            return UnknownEvent(type=name, data=data, raw=line, error=str(exc).splitlines()[0])
        event.raw = line
        return event  # type: ignore[return-value]
    _note_unknown("event", name)
    return UnknownEvent(type=name, data=data, raw=line)
