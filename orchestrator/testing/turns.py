"""What a Responses request says about the turn it belongs to.

codex re-sends the whole conversation with every request. The turn's prompt
is the last user message that is not context codex injected itself (the
environment block, AGENTS.md instructions, an aborted-turn marker). The
round is the number of tool calls after that prompt: 0 on the turn's first
request, 1 after the first tool output, and so on; ``polls`` counts the
``write_stdin`` calls among them, and ``running_session`` is the session id
when the last tool output says a command is still running. A turn is resumed
when the conversation holds anything before the prompt besides injected
context.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

_CONTEXT_PREFIXES = (
    "<environment_context>",
    "<permissions",
    "<user_instructions>",
    "<INSTRUCTIONS>",
    "# AGENTS.md instructions",
    "<turn_aborted>",
    "<skills",
    "<user_shell_command>",
)
_TOOL_CALLS = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
_TOOL_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output"})
_RUNNING = re.compile(r"Process running with session ID (\d+)")
POLL_TOOL = "write_stdin"


@dataclass(frozen=True)
class TurnView:
    """The facts a rule can match on, read from one request."""

    prompt: str
    round: int
    resumed: bool
    schema: dict[str, Any] | None
    key: str
    polls: int = 0
    trailing_polls: int = 0
    running_session: int | None = None

    @property
    def schema_properties(self) -> frozenset[str]:
        if self.schema is None:
            return frozenset()
        properties = self.schema.get("properties")
        return frozenset(properties) if isinstance(properties, dict) else frozenset()

    def describe(self) -> str:
        """A one-line description for error messages."""
        head = self.prompt[:80].replace("\n", " ")
        props = ", ".join(sorted(self.schema_properties)) or "none"
        return (
            f"the turn whose prompt starts with {head!r} (round {self.round}, "
            f"resumed={self.resumed}, schema properties: {props})"
        )


def message_text(item: dict[str, Any]) -> str:
    """The concatenated text parts of a message item."""
    content = item.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [p.get("text", "") for p in content if isinstance(p, dict)]
    return "".join(p for p in parts if isinstance(p, str))


def _is_user_prompt(item: dict[str, Any]) -> bool:
    if item.get("type", "message") != "message" or item.get("role") != "user":
        return False
    return not message_text(item).lstrip().startswith(_CONTEXT_PREFIXES)


def output_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The ``--output-schema`` JSON schema, which codex sends as ``text.format``."""
    text = body.get("text")
    if not isinstance(text, dict):
        return None
    fmt = text.get("format")
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    schema = fmt.get("schema")
    return schema if isinstance(schema, dict) else {}


def read_turn(body: dict[str, Any], headers: dict[str, str]) -> TurnView:
    """Locate the turn's prompt and round in a request body."""
    raw = body.get("input")
    items = [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []
    prompt_at = -1
    for index, item in enumerate(items):
        if _is_user_prompt(item):
            prompt_at = index
    prompt = message_text(items[prompt_at]) if prompt_at >= 0 else ""
    after = items[prompt_at + 1 :]
    rounds = sum(1 for item in after if item.get("type") in _TOOL_CALLS)
    polls = [item.get("name") == POLL_TOOL for item in after if item.get("type") in _TOOL_CALLS]
    trailing = next((n for n, poll in enumerate(reversed(polls)) if not poll), len(polls))
    before = items[:prompt_at] if prompt_at >= 0 else []
    resumed = any(
        _is_user_prompt(item) or item.get("role") == "assistant" or item.get("type") in _TOOL_CALLS
        for item in before
    )
    return TurnView(
        prompt=prompt,
        round=rounds,
        resumed=resumed,
        schema=output_schema(body),
        key=_turn_key(body, headers, prompt_at, prompt),
        polls=sum(polls),
        trailing_polls=trailing,
        running_session=_running_session(after),
    )


def _running_session(after: list[dict[str, Any]]) -> int | None:
    """The session id if the last tool output says its command is still running."""
    outputs = [item for item in after if item.get("type") in _TOOL_OUTPUTS]
    if not outputs:
        return None
    output = outputs[-1].get("output")
    text = output if isinstance(output, str) else json.dumps(output)
    found = _RUNNING.search(text)
    return int(found.group(1)) if found else None


def _turn_key(body: dict[str, Any], headers: dict[str, str], prompt_at: int, prompt: str) -> str:
    """Identifies a turn across its requests: codex's turn id when it sends one."""
    metadata = headers.get("x-codex-turn-metadata")
    if metadata:
        try:
            turn_id = json.loads(metadata).get("turn_id")
        except (ValueError, AttributeError):
            turn_id = None
        if isinstance(turn_id, str) and turn_id:
            return "turn:" + turn_id
    thread = str(body.get("prompt_cache_key") or headers.get("thread-id") or "")
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:16]
    return f"conv:{thread}:{prompt_at}:{digest}"
