"""Validation commands declared in ``validate`` fenced code blocks.

A block whose info string holds the word ``validate`` (```` ```sh validate ````)
lists one shell command per line; blank lines and ``#`` comments are
ignored, a line ending in ``\\`` continues on the next, and a leading ``$ ``
prompt is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.plan.blocks import Fence

_VALIDATE = re.compile(r"(?:^|[\s,{}.])validate(?:$|[\s,{}=])", re.IGNORECASE)
_PROMPT = re.compile(r"^\$\s+")


@dataclass(frozen=True)
class Command:
    line: int
    command: str


def is_validate_block(fence: Fence) -> bool:
    return bool(_VALIDATE.search(fence.info))


def commands(fence: Fence) -> list[Command]:
    """The commands of a validate block, each with the line it starts on."""
    found: list[Command] = []
    pending: list[str] = []
    pending_line = 0
    for offset, raw in enumerate(fence.content.split("\n")):
        line = fence.start + 1 + offset
        text = raw.strip()
        if not pending and (not text or text.startswith("#")):
            continue
        if not pending:
            pending_line = line
            text = _PROMPT.sub("", text)
        if text.endswith("\\"):
            pending.append(text[:-1].rstrip())
            continue
        pending.append(text)
        joined = " ".join(p for p in pending if p)
        if joined:
            found.append(Command(pending_line, joined))
        pending = []
    if pending:
        joined = " ".join(p for p in pending if p)
        if joined:
            found.append(Command(pending_line, joined))
    return found


def looks_like_command(line: str) -> bool:
    """A line from an indented block that reads like a shell command (for hints)."""
    text = _PROMPT.sub("", line.strip())
    return bool(text) and not text.startswith("#") and text.split()[0].isascii()
