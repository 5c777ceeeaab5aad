"""Hooks: user commands run on run events (notify a human, post to chat, page someone).

For each command configured for an event (``hooks.milestone_passed``,
``needs_human``, ``gave_up``, ``run_finished``) the JSON payload is written to
``<run_dir>/hooks/<n>-<event>.json`` and the command runs with ``bash -c`` in
the repository, with ``ORCH_EVENT``, ``ORCH_PAYLOAD`` (that file),
``ORCH_RUN_ID``, ``ORCH_REPO`` and ``ORCH_EXIT_CODE`` set where the payload
knows them (keys ``run_id``, ``repo``, ``exit_code``). The environment is
minimal: those variables, :data:`BASE_ENV` and the names listed in
``hooks.env``; nothing else of the orchestrator's environment (API keys, tokens)
reaches a hook. Each command is bounded by ``hooks.timeout``; its output goes
to a ``.log`` beside the payload. A hook that fails, hangs or cannot start is
logged and never stops the run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, get_args

import structlog
from pydantic import BaseModel, ConfigDict

from orchestrator.process.child import ProcessRequest, run_process
from orchestrator.redact import Redactor
from orchestrator.settings.model import HookSettings
from orchestrator.store.state import RunStatus

log = structlog.get_logger()

HookEvent = Literal["milestone_passed", "needs_human", "gave_up", "usage_limit", "run_finished"]
HOOK_EVENTS: tuple[HookEvent, ...] = get_args(HookEvent)
HOOKS_DIR = "hooks"
KILL_GRACE = 2.0
BASE_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
)
"""Variables of the orchestrator's environment every hook receives (when set)."""


class HookPayload(BaseModel):
    """What a hook's JSON payload file holds besides ``event``: the fields an event sets
    (a field set to None is written as null; one not set is left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str | None = None
    plan: str | None = None
    repo: str | None = None
    milestone: str | None = None
    commit: str | None = None
    attempts: int | None = None
    status: RunStatus | None = None
    reason: str | None = None
    question: str | None = None
    handoff: str | None = None
    resets_at: float | None = None
    exit_code: int | None = None


def _next_path(directory: Path, event: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    number = sum(1 for _ in directory.glob("*.json")) + 1
    while (path := directory / f"{number:03d}-{event}.json").exists():
        number += 1
    return path


def _hook_env(
    event: str, payload: HookPayload, payload_path: Path, passthrough: list[str]
) -> dict[str, str]:
    env = {k: os.environ[k] for k in (*BASE_ENV, *passthrough) if k in os.environ}
    env["ORCH_EVENT"] = event
    env["ORCH_PAYLOAD"] = str(payload_path)
    for value, name in (
        (payload.run_id, "ORCH_RUN_ID"),
        (payload.repo, "ORCH_REPO"),
        (payload.exit_code, "ORCH_EXIT_CODE"),
    ):
        if value is not None:
            env[name] = str(value)
        else:
            env.pop(name, None)
    return env


async def fire_hook(
    event: HookEvent, payload: HookPayload, settings: HookSettings, run_dir: Path
) -> None:
    """Run every command configured for ``event``; log failures, never raise."""
    try:
        await _fire(event, payload, settings, run_dir)
    except Exception as exc:
        log.warning("hook_error", hook_event=event, error=repr(exc))


async def _fire(
    event: HookEvent, payload: HookPayload, settings: HookSettings, run_dir: Path
) -> None:
    if event not in HOOK_EVENTS:
        log.warning("hook_unknown_event", hook_event=event, known=list(HOOK_EVENTS))
        return
    commands: list[str] = getattr(settings, event)
    if not commands:
        return
    payload_path, cwd, env = _prepare(event, payload, run_dir, settings.env)
    for index, command in enumerate(commands):
        await _run_one(event, command, index, cwd, env, settings, payload_path)


def _prepare(
    event: str, payload: HookPayload, run_dir: Path, passthrough: list[str]
) -> tuple[Path, Path, dict[str, str]]:
    """Write the payload file; the hook's working directory and environment."""
    redactor = Redactor.from_env()
    payload_path = _next_path(run_dir / HOOKS_DIR, event)
    document = {"event": event, **payload.model_dump(mode="json", exclude_unset=True)}
    text = json.dumps(redactor.data(document), indent=2, ensure_ascii=False)
    payload_path.write_text(text + "\n", encoding="utf-8")
    repo = payload.repo
    cwd = Path(repo) if repo is not None and Path(repo).is_dir() else run_dir
    return payload_path, cwd, _hook_env(event, payload, payload_path, passthrough)


async def _run_one(
    event: str,
    command: str,
    index: int,
    cwd: Path,
    env: dict[str, str],
    settings: HookSettings,
    payload_path: Path,
) -> None:
    request = ProcessRequest(
        argv=["bash", "-c", command],
        cwd=cwd,
        env=env,
        timeout=settings.timeout,
        kill_grace=KILL_GRACE,
        transcript=payload_path.with_name(f"{payload_path.stem}-{index}.log"),
    )
    try:
        outcome = await run_process(request)
    except Exception as exc:
        log.warning("hook_failed", hook_event=event, command=command, error=repr(exc))
        return
    fields: dict[str, Any] = {
        "hook_event": event,
        "command": command,
        "exit_code": outcome.exit_code,
        "ended": outcome.ended,
        "duration_s": round(outcome.duration_s, 3),
    }
    if outcome.ended == "exited" and outcome.exit_code == 0:
        log.info("hook_finished", **fields)
    else:
        log.warning("hook_failed", stderr_tail=outcome.stderr_tail[-500:], **fields)
