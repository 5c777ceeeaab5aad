"""Where settings can come from besides the defaults, found without reading them.

Light to import (standard library only), so an early exit can tell that a command
runs on the defaults alone before :mod:`orchestrator.settings.loader` (pydantic) is
loaded: see :mod:`orchestrator.run.early`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "ORCH_"
DEFAULT_CONFIG = Path(".agent") / "orchestrator.toml"


def is_setting_variable(name: str) -> bool:
    """``ORCH_<SECTION>__<KEY>`` sets a setting; other ``ORCH_*`` names (``ORCH_EVENT``
    and the rest hooks receive) do not."""
    return name.startswith(ENV_PREFIX) and "__" in name


def setting_variables(env: Mapping[str, str]) -> list[str]:
    """The names in ``env`` that set a setting, sorted."""
    return sorted(name for name in env if is_setting_variable(name))


def config_file_for(repo: Path, given: Path | None) -> Path | None:
    """The config file a command reads: ``--config FILE``, else the repository's
    ``.agent/orchestrator.toml`` when it exists, else none."""
    if given is not None:
        return given
    default = repo / DEFAULT_CONFIG
    return default if default.is_file() else None
