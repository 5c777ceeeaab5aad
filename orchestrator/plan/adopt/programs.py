"""The verdict for one simple command (its words), by program.

Each known program has a handler reading its subcommand and flags; wrappers
(``uv run``, ``npx``, ``timeout 60``, ``bundle exec``) hand the rest of the words
back to :func:`judge`. A program nobody listed is UNKNOWN, or PROGRAM when it is
a path in the tree (a project's own script): adopted only with a stated output.
"""

from __future__ import annotations

import re

from orchestrator.plan.adopt import programs_build, programs_js, programs_py, programs_sys
from orchestrator.plan.adopt.rules import Handler
from orchestrator.plan.adopt.targets import script_name
from orchestrator.plan.adopt.verdict import Kind, Verdict, v

# Later tables win where two name the same program.
HANDLERS: dict[str, Handler] = {
    **programs_sys.HANDLERS,
    **programs_build.HANDLERS,
    **programs_py.HANDLERS,
    **programs_js.HANDLERS,
}
_CMDLET = re.compile(r"^[A-Z][a-z]+-[A-Z][A-Za-z]+$")
_EXE_SUFFIX = re.compile(r"\.(?:exe|cmd|bat)$", re.IGNORECASE)


def program_name(word: str) -> str:
    """The program a word names: ``./gradlew`` is gradlew, ``python3.12`` is python."""
    base = word.rsplit("/", 1)[-1]
    base = _EXE_SUFFIX.sub("", base)
    if re.fullmatch(r"python(?:3(?:\.\d+)?)?|py", base):
        return "python"
    if re.fullmatch(r"pip3?(?:\.\d+)?", base):
        return "pip"
    return base


def _is_path(word: str) -> bool:
    return "/" in word or word.startswith(".")


def judge(words: list[str]) -> Verdict:
    """The verdict for one simple command given as its words (assignments removed)."""
    if not words:
        return v(Kind.NEUTRAL, "empty")
    first = words[0]
    if first == "!":
        return judge(words[1:])
    if "\\" in first or _CMDLET.match(first):
        return v(
            Kind.NOT_PORTABLE,
            f"`{first}` is Windows/PowerShell only; checks run in a POSIX shell",
        )
    if first.startswith(("/", "~")) and not first.startswith(("/usr/", "/bin/")):
        return v(Kind.MACHINE_PATH, f"`{first}` is a path on the author's machine")
    name = program_name(first)
    handler = HANDLERS.get(name)
    if handler is not None:
        return handler(words[1:], judge)
    if _is_path(first):
        return script_name(first, words[1:])
    return v(
        Kind.UNKNOWN,
        f"`{name}` is not a test, lint, type-check or build tool adopt knows; "
        "add it by hand if it proves the work",
    )


def known(word: str) -> bool:
    """Whether ``word`` names a program adopt has rules for (for telling commands from prose)."""
    return program_name(word) in HANDLERS
