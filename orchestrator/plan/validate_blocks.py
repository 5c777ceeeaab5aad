"""Validation commands declared in ``validate`` fenced code blocks.

A block whose info string holds the word ``validate`` (```` ```sh validate ````)
lists one shell command per line; blank lines and ``#`` comments are
ignored, a line ending in ``\\`` continues on the next, and a leading ``$ ``
prompt is dropped. A comment ``# expect: TEXT`` (or ``# expect-re: REGEX``)
right after a command states what its output must contain; such lines belong
to the command above them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.plan.blocks import Fence

_VALIDATE = re.compile(r"(?:^|[\s,{}.])validate(?:$|[\s,{}=])", re.IGNORECASE)
_PROMPT = re.compile(r"^\$\s+")
EXPECT = re.compile(r"^#\s*(?P<key>expect(?:-re)?)\s*:\s*(?P<value>.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    line: int
    command: str
    expect: tuple[str, ...] = ()


def is_validate_block(fence: Fence) -> bool:
    return bool(_VALIDATE.search(fence.info))


def expectation(line: str) -> str | None:
    """``expect: TEXT`` / ``expect-re: REGEX`` for a ``# expect...`` comment line, else None."""
    m = EXPECT.match(line.strip())
    if m is None or not m.group("value"):
        return None
    return f"{m.group('key').casefold()}: {m.group('value')}"


def pin(command: str, expect: tuple[str, ...] | list[str]) -> str:
    """One string holding a command and its expectations (how a run pins a check)."""
    return "\n".join([command, *(f"# {e}" for e in expect)])


def unpin(pinned: str) -> tuple[str, tuple[str, ...]]:
    """The command and expectations of a pinned string (inverse of :func:`pin`)."""
    lines = pinned.split("\n")
    expect = tuple(e for e in (expectation(x) for x in lines[1:]) if e is not None)
    if len(expect) != len(lines) - 1:
        return pinned, ()
    return lines[0], expect


def commands(fence: Fence) -> list[Command]:
    """The commands of a validate block, each with the line it starts on."""
    found: list[Command] = []
    pending: list[str] = []
    pending_line = 0

    def close() -> None:
        joined = " ".join(p for p in pending if p)
        if joined:
            found.append(Command(pending_line, joined))
        pending.clear()

    for offset, raw in enumerate(fence.content.split("\n")):
        line = fence.start + 1 + offset
        text = raw.strip()
        if not pending and text.startswith("#"):
            expect = expectation(text)
            if expect is not None and found:
                last = found[-1]
                found[-1] = Command(last.line, last.command, (*last.expect, expect))
            continue
        if not pending and not text:
            continue
        if not pending:
            pending_line = line
            text = _PROMPT.sub("", text)
        if text.endswith("\\"):
            pending.append(text[:-1].rstrip())
            continue
        pending.append(text)
        close()
    if pending:
        close()
    return found


def looks_like_command(line: str) -> bool:
    """A line from an indented block that reads like a shell command (for hints)."""
    text = _PROMPT.sub("", line.strip())
    return bool(text) and not text.startswith("#") and text.split()[0].isascii()
