"""Short blocking probes: a version, a config value, an import, a git query.

The process layer's synchronous door, for code that runs before any event loop
(the preflight, ``doctor``) and only asks a program a quick question. Like
:mod:`.child` it takes the environment explicitly, runs the program in its own
session with stdin closed, bounds it by a time limit (then SIGTERM to the whole
group, SIGKILL after a grace, so a git holding a lock file can remove it), keeps
the tail of its output and redacts it. It imports neither anyio nor psutil, so
the early paths that use it stay cheap.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestrator.process import Ended
from orchestrator.redact import Redactor

STOP_GRACE = 2.0  # seconds a stopped probe has to clean up before SIGKILL
TAIL_CHARS = 65536  # characters of stdout and stderr kept


@dataclass(frozen=True)
class Probed:
    """How a probe ended and the (redacted) end of what it printed."""

    ended: Ended  # "exited", "signalled", "timeout" or "not_found"
    exit_code: int | None  # None unless it exited
    stdout: str
    stderr: str  # for "not_found": why it could not start

    @property
    def ok(self) -> bool:
        return self.ended == "exited" and self.exit_code == 0


def _stop(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_GRACE)
        os.killpg(proc.pid, signal.SIGKILL)


def probe(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path | None = None
) -> Probed:
    """Run ``argv`` with exactly ``env`` for at most ``timeout`` seconds; never raises
    for a program that is missing, not executable or hangs."""
    redact = Redactor.from_env(env)
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:  # missing, not executable, a bad cwd
        return Probed("not_found", None, "", redact(exc.strerror or str(exc)))
    ended: Ended = "exited"
    deadline = time.monotonic() + timeout
    try:
        out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        ended = "timeout"
        _stop(proc)
        out, err = proc.communicate()
    except BaseException:  # interrupted: leave nothing running
        _stop(proc)
        proc.communicate()
        raise
    rc = proc.returncode
    if ended == "exited" and rc < 0:
        ended = "signalled"
    return Probed(
        ended,
        rc if ended == "exited" else None,
        redact(out[-TAIL_CHARS:]),
        redact(err[-TAIL_CHARS:]),
    )
