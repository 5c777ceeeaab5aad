"""What adopt thinks of one command: a kind and a reason a person can check."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a command is treated. Only CHECK (and PROGRAM with a stated output) are adopted."""

    CHECK = "check"
    PROGRAM = "program"
    NEUTRAL = "neutral"
    INSPECT = "inspection"
    EDIT = "edit"
    SERVER = "server"
    DEPLOY = "deploy"
    DESTRUCTIVE = "destructive"
    EXTERNAL = "external"
    INTERACTIVE = "interactive"
    SETUP = "setup"
    NEEDS_SERVICE = "needs-service"
    PLACEHOLDER = "placeholder"
    SHELL = "shell-feature"
    NOT_PORTABLE = "not-portable"
    CANNOT_FAIL = "cannot-fail"
    MACHINE_PATH = "machine-path"
    UNKNOWN = "unknown"
    MANUAL = "manual-only"


# The worst kind of any part decides a whole command line (first = worst).
SEVERITY: list[Kind] = [
    Kind.DESTRUCTIVE,
    Kind.DEPLOY,
    Kind.EXTERNAL,
    Kind.SETUP,
    Kind.SERVER,
    Kind.INTERACTIVE,
    Kind.EDIT,
    Kind.NEEDS_SERVICE,
    Kind.PLACEHOLDER,
    Kind.SHELL,
    Kind.NOT_PORTABLE,
    Kind.MACHINE_PATH,
    Kind.CANNOT_FAIL,
    Kind.UNKNOWN,
    Kind.MANUAL,
    Kind.PROGRAM,
    Kind.INSPECT,
    Kind.CHECK,
    Kind.NEUTRAL,
]


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str

    @property
    def adoptable(self) -> bool:
        return self.kind is Kind.CHECK


def worst(verdicts: list[Verdict]) -> Verdict:
    """The verdict of a whole line from those of its parts."""
    return min(verdicts, key=lambda v: SEVERITY.index(v.kind))


def check(reason: str) -> Verdict:
    return Verdict(Kind.CHECK, reason)


def v(kind: Kind, reason: str) -> Verdict:
    return Verdict(kind, reason)
