"""parse_event over the lines codex 0.169.0 was observed to print, and over junk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.codex import events as ev

# One observed line per type (paths shortened) from codex exec --json 0.169.0,
# plus the two types seen only in the source (plan delta, request_user_input).
OBSERVED = (
    (Path(__file__).parent / "data" / "codex_events_observed.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
)

EXPECTED = [
    (ev.ThreadStarted, None),
    (ev.TurnStarted, None),
    (ev.ItemCompleted, ev.ReasoningItem),
    (ev.ItemCompleted, ev.AgentMessageItem),
    (ev.ItemStarted, ev.FileChangeItem),
    (ev.ItemCompleted, ev.FileChangeItem),
    (ev.ItemStarted, ev.CommandExecutionItem),
    (ev.ItemCompleted, ev.CommandExecutionItem),
    (ev.ItemCompleted, ev.CommandExecutionItem),
    (ev.ItemCompleted, ev.McpToolCallItem),
    (ev.ItemCompleted, ev.McpToolCallItem),
    (ev.ItemCompleted, ev.CollabToolCallItem),
    (ev.ItemCompleted, ev.WebSearchItem),
    (ev.ItemStarted, ev.TodoListItem),
    (ev.ItemUpdated, ev.TodoListItem),
    (ev.ItemCompleted, ev.ErrorItem),
    (ev.ErrorEvent, None),
    (ev.TurnFailed, None),
    (ev.TurnCompleted, None),
    (ev.PlanDelta, None),
    (ev.RequestUserInput, None),
]


@pytest.mark.parametrize(("line", "expected"), list(zip(OBSERVED, EXPECTED, strict=True)))
def test_every_observed_type_parses(line: str, expected: tuple[type, type | None]) -> None:
    event = ev.parse_event(line)
    event_cls, item_cls = expected
    # Known item events come back as a subclass that narrows `item` to the known types.
    assert isinstance(event, event_cls)
    assert type(event).__mro__[1 if type(event) is not event_cls else 0] is event_cls
    assert event.raw == line
    if item_cls is not None:
        assert isinstance(event, ev.ItemStarted | ev.ItemUpdated | ev.ItemCompleted)
        assert type(event.item) is item_cls


def test_fields_are_read() -> None:
    usage = ev.parse_event(OBSERVED[18])
    assert isinstance(usage, ev.TurnCompleted)
    assert (usage.usage.input_tokens, usage.usage.reasoning_output_tokens) == (30, 3)
    cmd = ev.parse_event(OBSERVED[7])
    assert isinstance(cmd, ev.ItemCompleted)
    assert isinstance(cmd.item, ev.CommandExecutionItem)
    assert (cmd.item.exit_code, cmd.item.aggregated_output) == (0, "hello world\n")
    web = ev.parse_event(OBSERVED[12])
    assert isinstance(web, ev.ItemCompleted)
    assert web.item.id == "ws_1"  # codex repeats the key; the last one wins
    failed = ev.parse_event(OBSERVED[17])
    assert isinstance(failed, ev.TurnFailed)
    assert failed.error.message.startswith("stream disconnected")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "not json",
        '{"type":"item.completed","item":{"id":"item_9',
        "[1, 2]",
        '{"no_type": 1}',
        '{"type": 5}',
    ],
)
def test_malformed_lines_never_raise(line: str) -> None:
    event = ev.parse_event(line)
    assert isinstance(event, ev.MalformedLine)
    assert event.raw == line


def test_unknown_types_and_extra_fields_are_kept() -> None:
    unknown = ev.parse_event('{"type":"turn.paused","why":"x"}')
    assert isinstance(unknown, ev.UnknownEvent)
    assert unknown.data == {"type": "turn.paused", "why": "x"}
    item = ev.parse_event('{"type":"item.completed","item":{"id":"i","type":"hologram","z":1}}')
    assert isinstance(item, ev.ItemCompleted)
    assert isinstance(item.item, ev.UnknownItem)
    assert item.item.data["z"] == 1
    extra = ev.parse_event('{"type":"turn.started","new_field":[1]}')
    assert isinstance(extra, ev.TurnStarted)
    assert extra.model_extra == {"new_field": [1]}


def test_known_type_with_wrong_shape_degrades_to_unknown() -> None:
    bad_item = {"id": "i", "type": "command_execution", "exit_code": "zero"}
    event = ev.parse_event(json.dumps({"type": "item.completed", "item": bad_item}))
    assert isinstance(event, ev.ItemCompleted)
    assert isinstance(event.item, ev.UnknownItem)
    bad = ev.parse_event('{"type":"thread.started","thread_id":7}')
    assert isinstance(bad, ev.UnknownEvent)
    assert bad.error


def test_huge_line_parses() -> None:
    output = "y" * 5_000_000
    item = {"id": "i", "type": "command_execution", "aggregated_output": output, "exit_code": 0}
    event = ev.parse_event(json.dumps({"type": "item.completed", "item": item}))
    assert isinstance(event, ev.ItemCompleted)
    assert isinstance(event.item, ev.CommandExecutionItem)
    assert len(event.item.aggregated_output) == 5_000_000
