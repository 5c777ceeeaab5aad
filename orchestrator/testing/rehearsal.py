"""Run the orchestrator against the scripted model: the plumbing `demo` and `rehearse` share.

:func:`scripted_codex` serves a scenario on 127.0.0.1, prepares a throwaway
CODEX_HOME pointing at it and puts CODEX_HOME and the provider key into the
environment for the duration of the block (codex steps inherit it), restoring
the environment afterwards. :func:`scripted_settings` adjusts the user's settings
to the scripted model: the pinned codex, the scenario's model, no codex profile
(profiles live in the user's own CODEX_HOME), short retry waits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.errors import UsageError
from orchestrator.paths import find_codex
from orchestrator.settings.model import Settings
from orchestrator.testing.codex_home import prepare_codex_home
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer


def pinned_codex(settings: Settings) -> str:
    """The codex binary to drive, or a UsageError saying how to install it."""
    codex = find_codex(settings.codex.binary)
    if codex is None:
        raise UsageError(
            "the codex binary was not found: run `make demo` (it installs the pinned "
            "@openai/codex into .codex-cli/), or set codex.binary in the config."
        )
    return codex


def scripted_settings(base: Settings, *, codex: str, scenario: Scenario) -> Settings:
    """The user's settings, pointed at the scripted model."""
    return base.model_copy(
        update={
            "codex": base.codex.model_copy(
                update={
                    "binary": codex,
                    "model": scenario.model,
                    "profile": None,
                    "retry_initial_wait": 0.2,
                }
            ),
        }
    )


@contextmanager
def scripted_codex(scenario: Scenario, codex_home: Path) -> Iterator[ScriptedModelServer]:
    """Serve ``scenario`` and point codex at it for the duration of the block."""
    with ScriptedModelServer(scenario) as server:
        env = prepare_codex_home(codex_home, base_url=server.url, model=scenario.model)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            yield server
        finally:
            os.environ.clear()
            os.environ.update(saved)
