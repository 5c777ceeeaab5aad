"""Running the real CLI and seeing what it imported (for the early-exit tests).

The CLI runs in a subprocess under ``python -X importtime``: the interpreter itself
reports every module it imports on standard error, so a test sees what the command
really loaded. ``full_path_env`` forces the full path: ``GIT_CEILING_DIRECTORIES``
naming a directory that does not exist changes nothing git finds, but the early exits
leave every variable that steers git's search to git (run/early.py), so they step aside.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# What an early exit must not load: the settings/state models, logging, git, the
# Markdown parser, retries, the event loop and the live view.
HEAVY = ("pydantic", "structlog", "git", "markdown_it", "tenacity", "anyio", "rich")
_MARK = "import time:"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    modules: frozenset[str]

    @property
    def heavy(self) -> list[str]:
        """The heavy packages it imported."""
        return sorted(m for m in HEAVY if m in self.modules)

    def same_answer(self, other: Ran) -> bool:
        return (self.code, self.out, self.err) == (other.code, other.out, other.err)


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
    """``orchestrator ARGS`` in ``cwd``: exit code, stdout, stderr and imported packages."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "orchestrator", *args],
        cwd=cwd,
        env=os.environ.copy() if env is None else env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules: set[str] = set()
    err: list[str] = []
    for line in proc.stderr.splitlines(keepends=True):
        if line.startswith(_MARK):
            modules.add(line.rsplit("|", 1)[-1].strip().split(".")[0])
        else:
            err.append(line)
    return Ran(proc.returncode, proc.stdout, "".join(err), frozenset(modules))


def full_path_env(**extra: str) -> dict[str, str]:
    """The environment, plus a variable that sends commands the full way."""
    return {**os.environ, "GIT_CEILING_DIRECTORIES": "/nonexistent/ceiling", **extra}
