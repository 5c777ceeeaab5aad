"""Short blocking probes: a version, a config value, an import, a git query.

The process layer's synchronous door, for code that runs before any event loop
(the preflight, ``doctor``) and only asks a program a quick question. Like
:mod:`.child` it takes the environment explicitly, runs the program in its own
session with stdin closed, bounds it by a time limit (then SIGTERM to the whole
group, SIGKILL after a grace, so a git holding a lock file can remove it), keeps
the tail of its output and redacts it. A probe whose answer is needed only later
is started ahead (:func:`start`) and read when needed, so it runs while the caller
works. It imports neither anyio nor psutil, so the early paths that use it stay cheap.
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
from typing import Any

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


def kill_group(proc: subprocess.Popen[Any], grace: float = STOP_GRACE) -> None:
    """Stop a child started in its own session and everything it started: SIGTERM to the
    group first, so a git removes the lock files it holds (``index.lock``, ``HEAD.lock``:
    a SIGKILLed git leaves them, and the next run finds the repository locked), then
    SIGKILL to the group after ``grace``. ``os.killpg``, not ``proc.kill()``: the child
    may have started hooks or helpers in its session."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        os.killpg(proc.pid, signal.SIGKILL)


class Started:
    """A probe started by :func:`start`: :meth:`result` waits for it within the time limit
    counted from its start; :meth:`stop` ends it unread. Either reaps the process, and
    after either the other does nothing more (``result`` keeps its answer)."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path | None
    ) -> None:
        self._redact = Redactor.from_env(env)
        self._deadline = time.monotonic() + timeout
        self._done: Probed | None = None
        self._proc: subprocess.Popen[str] | None = None
        try:
            self._proc = subprocess.Popen(
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
            self._done = Probed("not_found", None, "", self._redact(exc.strerror or str(exc)))

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def result(self) -> Probed:
        """How it ended and what it printed (waiting for it if need be)."""
        if self._done is not None:
            return self._done
        proc = self._proc
        assert proc is not None
        ended: Ended = "exited"
        try:
            out, err = proc.communicate(timeout=max(0.0, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            ended = "timeout"
            kill_group(proc)
            out, err = proc.communicate()
        except BaseException:  # interrupted: leave nothing running
            self.stop()
            raise
        rc = proc.returncode
        if ended == "exited" and rc < 0:
            ended = "signalled"
        self._done = Probed(
            ended,
            rc if ended == "exited" else None,
            self._redact(out[-TAIL_CHARS:]),
            self._redact(err[-TAIL_CHARS:]),
        )
        return self._done

    def stop(self) -> None:
        """End the probe (its whole group) and reap it, unless it was collected already."""
        if self._done is not None or self._proc is None:
            return
        kill_group(self._proc)
        self._proc.communicate()
        self._done = Probed("signalled", None, "", "stopped before it was read")


def start(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path | None = None
) -> Started:
    """Start ``argv`` as :func:`probe` does, without waiting for it."""
    return Started(argv, env=env, timeout=timeout, cwd=cwd)


def probe(
    argv: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path | None = None
) -> Probed:
    """Run ``argv`` with exactly ``env`` for at most ``timeout`` seconds; never raises
    for a program that is missing, not executable or hangs."""
    return start(argv, env=env, timeout=timeout, cwd=cwd).result()
