"""Slow, independent probes of a run, started ahead of the run machinery.

Two questions take 0.1-0.2 s each and depend only on the settings and the
environment: the preflight's ``codex --version`` and whether ``codex sandbox``
works here (the verifier asks it before its first check, see
:mod:`orchestrator.verify.sandbox`). ``run`` and ``resume`` start both as soon as
their settings are loaded, so they run while the run machinery is imported, the
lock taken and the plan read. The preflight (:mod:`orchestrator.run.preflight`)
then judges the version's answer exactly as one it asked itself, and once it passed
the sandbox's answer is judged as the verifier judges its own and handed to it.
Each is used only for the same binary and environment; otherwise it is asked again
where it always was. The sandbox probe runs over a workspace of its own beside the
verification copies (removed afterwards). A probe nobody read (an early exit, an
error, a signal) is stopped and reaped when the command ends:
``with HeadStart(...) as ahead:``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from orchestrator.codex.argv import codex_binary
from orchestrator.codex.config_probe import start_version
from orchestrator.paths import find_codex, verify_cache
from orchestrator.process.probe import Started, start
from orchestrator.settings.model import Settings
from orchestrator.verify.sandbox import (
    PROBE_TIMEOUT,
    native_codex,
    probe_argv,
    probe_verdict,
    remember_probe,
)


@dataclass(frozen=True)
class _SandboxProbe:
    codex: str
    scratch: Path  # removed when done; the workspace is scratch/tree
    started: Started

    @property
    def workspace(self) -> Path:
        return self.scratch / "tree"


def _start_sandbox(codex: str, env: Mapping[str, str]) -> _SandboxProbe | None:
    """The sandbox probe the verifier would make first (the native binary behind an npm
    launcher, else ``codex``), over a new workspace; None when none can be made."""
    try:
        scratch = Path(tempfile.mkdtemp(prefix="probe-", dir=verify_cache()))
        (scratch / "tree" / ".git").mkdir(parents=True)
    except OSError:
        return None  # the verifier probes in its own copy, as it always could
    binary = native_codex(codex) or codex
    workspace = scratch / "tree"
    started = start(probe_argv(binary, workspace), env=env, timeout=PROBE_TIMEOUT, cwd=workspace)
    return _SandboxProbe(binary, scratch, started)


class HeadStart:
    """The probes started ahead for one ``run`` or ``resume``."""

    def __init__(self, settings: Settings, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        self._binary = find_codex(settings.codex.binary)
        self._version = None if self._binary is None else start_version(self._binary, self._env)
        self._sandbox = None
        if settings.verify.sandbox != "off":
            self._sandbox = _start_sandbox(codex_binary(settings.codex), self._env)

    def codex_version(self, binary: str | None, env: Mapping[str, str]) -> Started | None:
        """The ``--version`` probe started ahead, when it asked ``binary`` with ``env``."""
        if self._version is None or binary != self._binary or dict(env) != self._env:
            return None
        return self._version

    def hand_over_sandbox(self, env: Mapping[str, str]) -> None:
        """Judge the sandbox probe (waiting for it if need be) and give the verifier its
        answer, when the run's environment is the one it was asked with."""
        probe, self._sandbox = self._sandbox, None
        if probe is None:
            return
        try:
            if dict(env) == self._env:
                done = probe.started.result()
                problem = probe_verdict(
                    probe.codex, probe.workspace, done.ended, done.exit_code, done.stdout,
                    done.stderr,
                )  # fmt: skip
                remember_probe(probe.codex, problem)
        finally:
            probe.started.stop()
            shutil.rmtree(probe.scratch, ignore_errors=True)

    def close(self) -> None:
        """Stop and reap whatever was started and not read; remove its workspace."""
        if self._version is not None:
            self._version.stop()
        if self._sandbox is not None:
            self._sandbox.started.stop()
            shutil.rmtree(self._sandbox.scratch, ignore_errors=True)
            self._sandbox = None

    def __enter__(self) -> HeadStart:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
