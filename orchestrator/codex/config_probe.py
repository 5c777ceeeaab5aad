"""What can be told about codex without a model request: its version, config and credentials.

codex reads ``<CODEX_HOME>/config.toml`` (``CODEX_HOME`` defaults to ``~/.codex``), then
``<CODEX_HOME>/<profile>.config.toml`` for ``-p profile`` (a missing profile file is
silently ignored by codex, so we refuse it), then ``-c key=value`` overrides. The
configured provider needs credentials:

- a provider with ``env_key`` reads its key from that environment variable;
- the built-in ``openai`` provider uses ``CODEX_API_KEY`` or the login in
  ``<CODEX_HOME>/auth.json`` (written by ``codex login``);
- other built-in providers (``oss``, ``ollama``, ``lmstudio``) need none.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.process.probe import Started, start
from orchestrator.settings.model import CodexSettings

MIN_VERSION = (0, 169, 0)
VERSION_TIMEOUT = 30.0
_VERSION = re.compile(r"codex-cli (\d+)\.(\d+)\.(\d+)")
_NO_CREDENTIALS = frozenset({"oss", "ollama", "lmstudio"})


@dataclass(frozen=True)
class Probe:
    ok: bool
    detail: str
    fix: str | None = None


def codex_home(env: Mapping[str, str]) -> Path:
    home = env.get("CODEX_HOME")
    return Path(home) if home else Path(env.get("HOME") or Path.home()) / ".codex"


def start_version(binary: str, env: Mapping[str, str]) -> Started:
    """``binary --version``, started: :func:`probe_version` judges its answer."""
    return start([binary, "--version"], env=env, timeout=VERSION_TIMEOUT)


def probe_version(
    binary: str | None, env: Mapping[str, str], started: Started | None = None
) -> Probe:
    """Whether ``binary`` exists, runs and reports a supported ``codex-cli`` version;
    ``started`` is its :func:`start_version` probe when one was started ahead."""
    want = ".".join(map(str, MIN_VERSION))
    if binary is None:
        return Probe(
            False,
            "no codex executable: none configured, no project-local install, none on PATH",
            "install codex (`npm install -g @openai/codex`) or pass --codex-bin PATH "
            "(config codex.binary)",
        )
    done = (started or start_version(binary, env)).result()
    if done.ended == "not_found":
        return Probe(
            False,
            f"the codex executable {binary} cannot start: {done.stderr}",
            "install codex or point --codex-bin (config codex.binary) at it",
        )
    if done.ended == "timeout":
        return Probe(
            False,
            f"{binary} --version did not answer within {VERSION_TIMEOUT:g}s",
            "check that --codex-bin (config codex.binary) names the codex executable",
        )
    match = _VERSION.search(done.stdout)
    if not done.ok or match is None:
        said = (done.stdout + done.stderr).strip().splitlines()
        how = f"exited {done.exit_code}" if done.ended == "exited" else done.ended
        return Probe(
            False,
            f"{binary} --version {how} and printed "
            f"{said[0][:120] if said else 'nothing'!r}, not `codex-cli X.Y.Z`: is it codex?",
            "point --codex-bin (config codex.binary) at the codex executable",
        )
    version = tuple(int(g) for g in match.groups())
    if version < MIN_VERSION:
        return Probe(
            False,
            f"{binary} is codex {match.group(0)[10:]}; version {want} or newer is needed",
            "upgrade codex (`npm install -g @openai/codex@latest`)",
        )
    return Probe(True, f"{binary}: {match.group(0)}")


def _set(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        nxt = tree.setdefault(part, {})
        if not isinstance(nxt, dict):
            nxt = tree[part] = {}
        tree = nxt
    tree[leaf] = value


def _merge(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _override(text: str) -> tuple[str, Any] | None:
    key, sep, raw = text.partition("=")
    if not sep:
        return None
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def _load(path: Path) -> tuple[dict[str, Any] | None, Probe | None]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, Probe(
            False,
            f"codex cannot load its config {path}: {exc}",
            f"fix {path} (codex would stop with `Error loading config.toml`)",
        )


def probe_config(settings: CodexSettings, env: Mapping[str, str]) -> Probe:
    """Whether codex's config and profile load and the provider has credentials."""
    home = codex_home(env)
    config, problem = _load(home / "config.toml")
    if config is None:
        return problem or Probe(False, "config unreadable")
    if settings.profile:
        if settings.profile in (config.get("profiles") or {}):
            return Probe(
                False,
                f"profile {settings.profile!r} is a [profiles.{settings.profile}] table in "
                f"{home / 'config.toml'}; codex {'.'.join(map(str, MIN_VERSION))} refuses those",
                f"move it to {home / (settings.profile + '.config.toml')}",
            )
        profile_file = home / f"{settings.profile}.config.toml"
        if not profile_file.is_file():
            return Probe(
                False,
                f"codex profile {settings.profile!r} has no file {profile_file} (codex would "
                "silently run without it)",
                f"create {profile_file}, or drop the profile (config codex.profile)",
            )
        layer, problem = _load(profile_file)
        if layer is None:
            return problem or Probe(False, "profile unreadable")
        _merge(config, layer)
    for text in settings.config_overrides:
        pair = _override(text)
        if pair is not None:
            _set(config, *pair)
    return _credentials(config, home, env)


def _credentials(config: dict[str, Any], home: Path, env: Mapping[str, str]) -> Probe:
    provider = str(config.get("model_provider") or "openai")
    providers = config.get("model_providers") or {}
    entry = providers.get(provider) if isinstance(providers, dict) else None
    if isinstance(entry, dict):
        key = entry.get("env_key")
        if key and not env.get(str(key)):
            return Probe(
                False,
                f"codex provider {provider!r} reads its API key from ${key}, which is not set "
                "in this environment",
                f"export {key}=... where the orchestrator runs (a crontab has a minimal "
                "environment: set it there or in a file the cron line sources)",
            )
        how = f"key in ${key}" if key else "no key needed"
        return Probe(True, f"provider {provider!r} ({how}); config from {home}")
    if provider in _NO_CREDENTIALS:
        return Probe(True, f"built-in provider {provider!r} needs no credentials")
    if provider == "openai":
        if env.get("CODEX_API_KEY"):
            return Probe(True, "provider 'openai' with $CODEX_API_KEY")
        if (home / "auth.json").is_file():
            return Probe(True, f"provider 'openai', logged in ({home / 'auth.json'})")
        return Probe(
            False,
            f"codex is not logged in: no {home / 'auth.json'} and no $CODEX_API_KEY",
            "run `codex login` as the user the orchestrator runs as (with the same "
            "CODEX_HOME), or export CODEX_API_KEY",
        )
    return Probe(
        False,
        f"codex provider {provider!r} is not defined in {home / 'config.toml'}",
        f"add a [model_providers.{provider}] table, or fix model_provider",
    )
