"""What a run depends on for its safety, pinned when it starts.

Programs the orchestrator runs with its own rights, and what decides a verdict,
come from the settings and the plan: the checks' shell, the codex binary and its
extra arguments and config overrides, the sandbox, the review gate (as the plan
may turn it off), the hooks, every ``verify.`` setting, and the plan's checks;
also the content of each program file in the repository the settings name. A
run records them in its state when it starts. Each later invocation that
continues the run compares them with what it read itself (:func:`confirm_pins`)
and refuses, exit 2 with a readable diff, unless the person passes
``--accept-changes``: then the run continues with the new values, pinned anew.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import structlog

from orchestrator.errors import ConfigError
from orchestrator.guard.inputs import program_files
from orchestrator.paths import find_codex
from orchestrator.plan.model import ExecPlan
from orchestrator.run.pinned import pinned_checks, review_gate_for
from orchestrator.settings.model import Settings
from orchestrator.store.state import RunState

log = structlog.get_logger()

PINNED_SETTINGS = (
    "codex.binary",
    "codex.profile",
    "codex.sandbox",
    "codex.config_overrides",
    "codex.extra_args",
    "checks.shell",
    "checks.commands",
    "loop.review_gate",
    "hooks",
    "verify",
)
"""Dotted keys (or whole sections) pinned by every run."""


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def security_pins(
    settings: Settings, *, root: Path, plan_text: str, config_file: Path | None
) -> dict[str, Any]:
    """The security-relevant settings and program files, as this invocation sees them."""
    dumped = settings.model_dump(mode="json")
    pins: dict[str, Any] = {}
    for key in PINNED_SETTINGS:
        section, _, name = key.partition(".")
        value = dumped.get(section, {})
        if name:
            pins[key] = value.get(name)
        else:
            pins.update({f"{section}.{k}": v for k, v in value.items()})
    pins["loop.review_gate"] = review_gate_for(plan_text, settings)
    pins["codex.binary"] = find_codex(settings.codex.binary) or "codex"
    for rel in program_files(root, settings, config_file):
        try:
            pins[f"file {rel}"] = _file_digest(root / rel)
        except OSError:
            pins[f"file {rel}"] = None
    return pins


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return f"sha256 {value[:12]}"
    return "(unset)" if value is None else json.dumps(value)


def pin_changes(state: RunState, pins: dict[str, Any], checks: dict[str, list[str]]) -> list[str]:
    """One line per pinned value that differs: ``key: old -> new``."""
    old = state.pinned_settings
    lines = [
        f"{key}: {_show(old.get(key))} -> {_show(pins.get(key))}"
        for key in sorted(set(old) | set(pins))
        if old.get(key) != pins.get(key)
    ]
    for mid in sorted(set(state.pinned_checks) | set(checks)):
        before, after = state.pinned_checks.get(mid), checks.get(mid)
        if before != after:
            where = "the plan-level checks" if mid == "plan" else f"the checks of milestone {mid}"
            lines.append(f"{where}: {_show(before)} -> {_show(after)}")
    return lines


def confirm_pins(
    state: RunState,
    *,
    settings: Settings,
    plan: ExecPlan,
    plan_text: str,
    root: Path,
    config_file: Path | None,
    accept: bool,
) -> None:
    """Continue ``state`` only with what it pinned, or with the person's changes accepted.

    Raises ConfigError (exit 2) listing every change; a run that pinned nothing yet
    (made by an earlier version) is pinned now.
    """
    pins = security_pins(settings, root=root, plan_text=plan_text, config_file=config_file)
    checks = pinned_checks(plan, settings)
    if not state.pinned_settings:
        state.pinned_settings = pins
    changes = pin_changes(state, pins, checks)
    if changes and not accept:
        listed = "\n".join(f"  {line}" for line in changes)
        raise ConfigError(
            f"what run {state.run_id} depends on changed since it started:\n{listed}\n"
            "These decide what runs with the orchestrator's rights and what makes a "
            "milestone pass, so the run does not continue with them silently. If the "
            "changes are yours, continue with `orchestrator resume --accept-changes`; "
            "otherwise undo them (the config, the plan's validate blocks, the files named) "
            "and resume."
        )
    if changes:
        log.warning("pins_changed_accepted", run_id=state.run_id, changes=changes)
    state.pinned_settings = pins
    state.pinned_checks = checks
