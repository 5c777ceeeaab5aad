"""The preflight's slow, independent probe, started ahead of the run machinery.

``codex --version`` takes 0.1-0.2 s and depends only on the settings and the
environment. ``run`` and ``resume`` start it as soon as their settings are loaded,
so it runs while the run machinery is imported, the lock taken and the plan read;
the preflight (:mod:`orchestrator.run.preflight`) then reads its answer and judges it
exactly as it judges one asked there, with the same words. It is used only when the
preflight asks the same binary with the same environment; otherwise the preflight
asks again. A probe nobody read (an early exit, an error, a signal) is stopped and
reaped when the command ends: ``with HeadStart(...) as ahead:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from orchestrator.codex.config_probe import start_version
from orchestrator.paths import find_codex
from orchestrator.process.probe import Started
from orchestrator.settings.model import CodexSettings


class HeadStart:
    """The probes started ahead for one ``run`` or ``resume``."""

    def __init__(self, settings: CodexSettings, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        self._binary = find_codex(settings.binary)
        self._version = None if self._binary is None else start_version(self._binary, self._env)

    def codex_version(self, binary: str | None, env: Mapping[str, str]) -> Started | None:
        """The ``--version`` probe started ahead, when it asked ``binary`` with ``env``."""
        if self._version is None or binary != self._binary or dict(env) != self._env:
            return None
        return self._version

    def close(self) -> None:
        """Stop and reap whatever was started and not read."""
        if self._version is not None:
            self._version.stop()

    def __enter__(self) -> HeadStart:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
