"""Server-sent events of the Responses API, as codex 0.169 reads them.

A response is ``response.created``, then ``response.output_item.added`` and
``response.output_item.done`` for each output item, then
``response.completed`` carrying the response id (mandatory for codex) and the
token usage. Items are plain dicts shaped like the API's.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.testing.scenario import TokenUsage

Event = dict[str, Any]
Item = dict[str, Any]


def encode(event: Event) -> bytes:
    """One SSE block: ``event:`` line, ``data:`` line, blank line."""
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def message_item(item_id: str, text: str) -> Item:
    """An assistant message (becomes an ``agent_message`` in codex's JSONL)."""
    return {
        "type": "message",
        "role": "assistant",
        "id": item_id,
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def exec_command_item(
    item_id: str, call_id: str, command: str, yield_ms: int | None = None
) -> Item:
    """A call of codex's shell tool (becomes a ``command_execution``)."""
    arguments: dict[str, Any] = {"cmd": command}
    if yield_ms is not None:
        arguments["yield_time_ms"] = yield_ms
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": "exec_command",
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def write_stdin_item(item_id: str, call_id: str, session_id: int, yield_ms: int) -> Item:
    """A poll of a command still running (empty ``chars``): no JSONL item in codex."""
    arguments = {"session_id": session_id, "chars": "", "yield_time_ms": yield_ms}
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": "write_stdin",
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def apply_patch_item(item_id: str, call_id: str, patch: str) -> Item:
    """A freeform ``apply_patch`` call (becomes a ``file_change``)."""
    return {
        "type": "custom_tool_call",
        "id": item_id,
        "call_id": call_id,
        "name": "apply_patch",
        "input": patch if patch.endswith("\n") else patch + "\n",
        "status": "completed",
    }


def usage_object(usage: TokenUsage) -> dict[str, Any]:
    """The ``usage`` object of ``response.completed``."""
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def created(response_id: str, model: str) -> Event:
    return {
        "type": "response.created",
        "response": {
            "id": response_id,
            "object": "response",
            "model": model,
            "status": "in_progress",
        },
    }


def item_events(item: Item, index: int) -> list[Event]:
    """``output_item.added`` then ``output_item.done`` for one item."""
    return [
        {"type": "response.output_item.added", "output_index": index, "item": item},
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]


def completed(response_id: str, model: str, items: list[Item], usage: TokenUsage) -> Event:
    return {
        "type": "response.completed",
        "response": {
            "id": response_id,
            "object": "response",
            "model": model,
            "status": "completed",
            "output": items,
            "usage": usage_object(usage),
        },
    }


def response_events(
    response_id: str, model: str, items: list[Item], usage: TokenUsage
) -> list[Event]:
    """Every event of one complete response holding ``items``."""
    events = [created(response_id, model)]
    for index, item in enumerate(items):
        events.extend(item_events(item, index))
    events.append(completed(response_id, model, items, usage))
    return events
