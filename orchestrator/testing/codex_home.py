"""A private CODEX_HOME that points the real codex binary at the scripted model.

Nothing here touches a user's own codex setup: the directory is new (or
owned by the caller), the provider is a custom one on loopback with a dummy
key, retries are bounded and short so scripted faults resolve in seconds,
and every feature that would reach the internet on its own (plugin sync,
apps, analytics, model discovery, endless reconnects) is switched off.
"""

from __future__ import annotations

import json
from pathlib import Path

PROVIDER_ID = "scripted"
ENV_KEY = "SCRIPTED_MODEL_API_KEY"
DUMMY_KEY = "scripted-model-key"

# Features that contact the network by themselves or make runs wait on it.
OFFLINE_FEATURES: dict[str, bool] = {
    "plugins": False,
    "remote_plugin": False,
    "apps": False,
    "api_key_model_discovery": False,
    "in_app_updates": False,
    "unbounded_connection_retries": False,
}


def _toml(value: object) -> str:
    """A TOML literal for the simple values we write (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def config_text(
    *,
    base_url: str,
    model: str,
    request_max_retries: int,
    stream_max_retries: int,
    stream_idle_timeout_ms: int,
) -> str:
    """The config.toml text for a scripted-model CODEX_HOME."""
    lines = [
        "# Written by orchestrator: codex talks to a scripted model on loopback.",
        f"model = {_toml(model)}",
        f"model_provider = {_toml(PROVIDER_ID)}",
        "",
        "[analytics]",
        "enabled = false",
        "",
        "[features]",
        *(f"{name} = {_toml(on)}" for name, on in OFFLINE_FEATURES.items()),
        "",
        f"[model_providers.{PROVIDER_ID}]",
        f"name = {_toml('scripted model')}",
        f"base_url = {_toml(base_url)}",
        'wire_api = "responses"',
        f"env_key = {_toml(ENV_KEY)}",
        f"request_max_retries = {request_max_retries}",
        f"stream_max_retries = {stream_max_retries}",
        f"stream_idle_timeout_ms = {stream_idle_timeout_ms}",
        "",
    ]
    return "\n".join(lines)


def prepare_codex_home(
    home: Path,
    *,
    base_url: str,
    model: str = "gpt-5.5",
    request_max_retries: int = 1,
    stream_max_retries: int = 2,
    stream_idle_timeout_ms: int = 5000,
) -> dict[str, str]:
    """Write ``<home>/config.toml`` for the scripted model; return the env vars to add.

    The defaults make a persistent 5xx end after (2+1) x (1+1) = 6 requests
    and a silent stream after about 3 x 5 s.
    """
    home.mkdir(parents=True, exist_ok=True)
    text = config_text(
        base_url=base_url,
        model=model,
        request_max_retries=request_max_retries,
        stream_max_retries=stream_max_retries,
        stream_idle_timeout_ms=stream_idle_timeout_ms,
    )
    (home / "config.toml").write_text(text, encoding="utf-8")
    return {"CODEX_HOME": str(home), ENV_KEY: DUMMY_KEY}
