"""The fake codex's command line: ``exec`` arguments parsed as codex's clap parser would."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import NoReturn

VERSION = "codex-cli 0.169.0 (fake)"

_VALUE_FLAGS = {
    "-C": "cd", "--cd": "cd", "-s": "sandbox", "--sandbox": "sandbox", "-m": "model",
    "--model": "model", "-p": "profile", "--profile": "profile", "-c": "config",
    "--config": "config", "--output-schema": "schema", "-o": "last_message",
    "--output-last-message": "last_message", "--disable": "feature", "--enable": "feature",
    "--add-dir": "add_dir", "--thread-source": "thread_source",
}  # fmt: skip

_BOOL_FLAGS = {
    "--json", "--skip-git-repo-check", "--ephemeral", "--ignore-user-config",
    "--ignore-rules", "--strict-config", "--last", "--all",
}  # fmt: skip

_BEFORE_RESUME_ONLY = {"-C", "--cd", "-s", "--sandbox", "--add-dir", "-p", "--profile"}


@dataclass
class Invocation:
    values: dict[str, list[str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    resume: str | None = None
    prompt: str | None = None

    def one(self, key: str) -> str | None:
        got = self.values.get(key)
        return got[-1] if got else None


def fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


def parse_args(args: list[str]) -> Invocation:
    """Parse ``exec`` arguments the way codex's clap parser would accept them."""
    inv = Invocation()
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if arg == "--":
            inv.prompt = " ".join(args[i + 1 :]) if i + 1 < len(args) else None
            break
        if name in _VALUE_FLAGS:
            if inv.resume is not None and name in _BEFORE_RESUME_ONLY:
                fail(f"error: unexpected argument '{name}' found", 2)
            if not eq:
                i += 1
                if i >= len(args):
                    fail(f"error: a value is required for '{name}'", 2)
                inline = args[i]
            inv.values.setdefault(_VALUE_FLAGS[name], []).append(inline)
        elif arg in _BOOL_FLAGS:
            inv.flags.add(arg)
        elif arg == "resume" and inv.resume is None and inv.prompt is None:
            i += 1
            if i >= len(args):
                fail("error: resume needs a thread id", 2)
            inv.resume = args[i]
        elif arg.startswith("-") and arg != "-":
            fail(f"error: unexpected argument '{arg}' found", 2)
        elif inv.prompt is None:
            inv.prompt = arg
        else:
            fail(f"error: unexpected argument '{arg}' found", 2)
        i += 1
    return inv


def read_prompt(inv: Invocation) -> str:
    if inv.prompt is None or inv.prompt == "-":
        text = sys.stdin.read() if not sys.stdin.isatty() else ""
        if not text.strip():
            fail("No prompt provided via stdin.", 1)
        return text
    if inv.resume is None and not sys.stdin.isatty():
        sys.stderr.write("Reading additional input from stdin...\n")
        extra = sys.stdin.read()
        if extra:
            return f"{inv.prompt}\n\n<stdin>\n{extra}\n</stdin>"
    return inv.prompt
