"""Layered settings: defaults < config file < ORCH_* environment < command-line flags.

Each effective value remembers where it came from, and an invalid value is
reported with its source (file, key and line; variable; or flag) and what was
expected. Environment variables are ``ORCH_<SECTION>__<KEY>`` (double
underscore between levels, e.g. ``ORCH_LOOP__MAX_ATTEMPTS=5``); list values are
JSON. ``ORCH_*`` names without a double underscore (``ORCH_EVENT`` and the other
variables hooks receive) are not settings and are ignored.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from orchestrator.errors import ConfigError
from orchestrator.settings.model import Settings
from orchestrator.settings.sources import ENV_PREFIX as ENV_PREFIX
from orchestrator.settings.sources import config_file_for, setting_variables

DEFAULT_SOURCE = "default"


@dataclass
class LoadedSettings:
    """The effective settings and, per dotted key, where the value came from."""

    settings: Settings
    origins: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None

    def origin(self, dotted: str) -> str:
        """Where ``dotted`` (``loop.max_attempts``) came from; ``default`` if nowhere."""
        return self.origins.get(dotted, DEFAULT_SOURCE)


def _set_dotted(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = target
    for key in path[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _toml_lines(text: str) -> dict[str, int]:
    """Best-effort map of dotted key -> 1-based line in a TOML text (tables and dotted keys)."""
    lines: dict[str, int] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and not line.startswith("[["):
            table = tuple(p.strip().strip("\"'") for p in line.strip("[]").split("."))
            lines.setdefault(".".join(table), number)
        elif "=" in line:
            key = tuple(p.strip().strip("\"'") for p in line.split("=", 1)[0].split("."))
            lines.setdefault(".".join(table + key), number)
    return lines


def _flatten(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            paths.extend(_flatten(value, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


def _read_file(path: Path, data: dict[str, Any], origins: dict[str, str]) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    lines = _toml_lines(text)
    for dotted_path in _flatten(parsed):
        value: Any = parsed
        for key in dotted_path:
            value = value[key]
        _set_dotted(data, dotted_path, value)
        for end in range(1, len(dotted_path) + 1):
            key_path = ".".join(dotted_path[:end])
            line = lines.get(key_path)
            origins.setdefault(
                key_path, f"{path} key {key_path}" + (f" (line {line})" if line else "")
            )


def _field_info(path: tuple[str, ...]) -> FieldInfo | None:
    """The settings field at a dotted path, or None if there is none."""
    model: type[BaseModel] = Settings
    for key in path[:-1]:
        info = model.model_fields.get(key)
        sub = info.annotation if info else None
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            return None
        model = sub
    return model.model_fields.get(path[-1])


def _field_is_list(path: tuple[str, ...]) -> bool:
    info = _field_info(path)
    return info is not None and "list[" in str(info.annotation)


def _field_is_optional(path: tuple[str, ...]) -> bool:
    info = _field_info(path)
    return info is not None and not info.is_required() and info.default is None


def _read_env(env: Mapping[str, str], data: dict[str, Any], origins: dict[str, str]) -> None:
    for name in setting_variables(env):
        raw = env[name]
        path = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(path):
            raise ConfigError(
                f"environment variable {name}: malformed name; expected "
                "ORCH_<SECTION>__<KEY>, e.g. ORCH_LOOP__MAX_ATTEMPTS"
            )
        value: Any = raw
        if _field_is_list(path):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise ConfigError(
                    f"environment variable {name}: expected a JSON list, "
                    f'e.g. {name}=\'["a", "b"]\', got {raw!r}'
                ) from None
        elif raw == "" and _field_is_optional(path):
            value = None
        _set_dotted(data, path, value)
        origins[".".join(path)] = f"environment variable {name}"


def _read_flags(
    flags: Mapping[str, Any],
    names: Mapping[str, str],
    data: dict[str, Any],
    origins: dict[str, str],
) -> None:
    for dotted, value in flags.items():
        if value is None:
            continue
        _set_dotted(data, tuple(dotted.split(".")), value)
        flag = names.get(dotted, "--" + dotted.rsplit(".", 1)[-1].replace("_", "-"))
        origins[dotted] = f"command-line flag {flag}"


def _known_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        keys.append(prefix + name)
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            keys.extend(_known_keys(sub, f"{prefix}{name}."))
    return keys


def _suggestion(dotted: str) -> str:
    close = difflib.get_close_matches(dotted, _known_keys(), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"{hint}; remove it or correct its name (`orchestrator config` lists every "
        "setting with its value)"
    )


def _describe(exc: ValidationError, origins: Mapping[str, str]) -> str:
    problems: list[str] = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
        dotted = ".".join(loc)
        source = origins.get(dotted)
        if source is None:
            parents = [".".join(loc[:i]) for i in range(len(loc) - 1, 0, -1)]
            source = next((origins[p] for p in parents if p in origins), DEFAULT_SOURCE)
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown setting {dotted!r} from {source}{_suggestion(dotted)}")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] in {"model_type", "model_attributes_type", "dict_type"}:
            message = f"expected a table of settings (`[{dotted}]` with its keys below it)"
        problems.append(
            f"invalid setting {dotted} = {error.get('input')!r} from {source}: {message}"
        )
    return "; ".join(problems)


def resolve_settings(
    *,
    repo: Path,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """The effective settings with the origin of every value set anywhere but the defaults.

    ``flags`` maps dotted keys (``loop.max_attempts``) to values; ``flag_names`` maps
    them to the option a person typed (``--max-attempts``), for messages and origins.
    """
    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    path = config_file_for(repo, config_file)
    if path is not None:
        if not path.is_file():
            raise ConfigError(
                f"config file {path} does not exist; pass an existing TOML file to --config, "
                "or leave --config out to use .agent/orchestrator.toml (`orchestrator init` "
                "writes one; configs/default.toml lists every key)"
            )
        _read_file(path, data, origins)
    _read_env(env or {}, data, origins)
    _read_flags(flags or {}, flag_names or {}, data, origins)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origins)) from None
    return LoadedSettings(settings=settings, origins=origins, config_file=path)


def load_settings(
    *,
    repo: Path,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings (see :func:`resolve_settings`)."""
    loaded = resolve_settings(
        repo=repo, config_file=config_file, env=env, flags=flags, flag_names=flag_names
    )
    return loaded.settings


def effective_values(loaded: LoadedSettings) -> dict[str, dict[str, Any]]:
    """Every dotted key -> ``{"value": ..., "source": ...}``, in model order."""
    dumped = loaded.settings.model_dump(mode="json")
    return {
        ".".join(path): {
            "value": _lookup(dumped, path),
            "source": loaded.origin(".".join(path)),
        }
        for path in _flatten_all(dumped)
    }


def _flatten_all(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            paths.extend(_flatten_all(value, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        node = node[key]
    return node


def show_config(
    *,
    repo: Path,
    config_file: Path | None,
    env: Mapping[str, str] | None,
    flags: Mapping[str, Any] | None,
    flag_names: Mapping[str, str] | None = None,
    as_json: bool,
) -> int:
    """Print the effective settings and where each came from; 0, or ConfigError (exit 2)."""
    from orchestrator.redact import Redactor
    from orchestrator.ui import console

    loaded = resolve_settings(
        repo=repo, config_file=config_file, env=env, flags=flags, flag_names=flag_names
    )
    redactor = Redactor.from_env(env)
    values = effective_values(loaded)
    if as_json:
        console.out(redactor(json.dumps(values, indent=2)))
        return 0
    width = max(len(key) for key in values)
    source_file = loaded.config_file or "none"
    console.out(f"# config file: {source_file}")
    for key, entry in values.items():
        rendered = json.dumps(entry["value"])
        console.out(redactor(f"{key:<{width}} = {rendered}  # {entry['source']}"))
    return 0
