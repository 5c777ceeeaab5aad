"""Settings: one pydantic model, layered defaults < config file < ORCH_* env < flags.

This module defines the fields (the contract every other module reads).
The layered loader with value origins lives in :mod:`orchestrator.settings.loader`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from orchestrator.settings.durations import parse_duration

Sandbox = Literal["read-only", "workspace-write", "danger-full-access"]
Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds; also accepts strings such as ``90``, ``90s``, ``15m``, ``6h``, ``1h30m``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodexSettings(_Strict):
    """How `codex exec` is started."""

    binary: str | None = Field(
        None,
        description="codex executable; default: the project-local pinned install, else PATH",
    )
    model: str | None = Field(None, description="model passed with -m (default: codex config)")
    profile: str | None = Field(None, description="codex profile passed with -p")
    sandbox: Sandbox = Field("workspace-write", description="sandbox for implement/repair steps")
    config_overrides: list[str] = Field(
        default_factory=list, description="extra `-c key=value` overrides passed to codex"
    )
    extra_args: list[str] = Field(default_factory=list, description="extra codex exec arguments")
    step_timeout: Duration = Field(
        14400.0,
        gt=0,
        description="wall-clock limit of one codex step, however busy (default 4h)",
    )
    stall_timeout: Duration = Field(
        300.0,
        gt=0,
        description="a step doing nothing for this long ends: no JSONL event, no command"
        " in flight, no new session (rollout) entry",
    )
    command_timeout: Duration = Field(
        7200.0, gt=0, description="one command inside a step running this long ends the step"
    )
    kill_grace: Duration = Field(5.0, ge=0, description="seconds between SIGINT and SIGKILL")
    retries: int = Field(4, ge=0, description="retries of a transient step failure")
    retry_max_time: Duration = Field(
        900.0, gt=0, description="total seconds spent retrying one step"
    )
    retry_initial_wait: Duration = Field(2.0, ge=0, description="first backoff wait, seconds")
    retry_max_wait: Duration = Field(120.0, ge=0, description="longest backoff wait, seconds")
    max_line_bytes: int = Field(
        1_048_576, gt=1024, description="a JSONL line longer than this is truncated in memory"
    )


class LoopSettings(_Strict):
    """The Review -> Repair -> Validate loop of one milestone."""

    max_attempts: int = Field(3, ge=0, description="repairs allowed per milestone")
    review_gate: bool = Field(True, description="run a read-only review after checks pass")
    on_give_up: Literal["keep", "reset"] = Field(
        "keep", description="what happens to a failed milestone's uncommitted changes"
    )


class CheckSettings(_Strict):
    """Validation commands the orchestrator runs itself."""

    timeout: Duration = Field(600.0, gt=0, description="per-check timeout, seconds")
    output_tail_bytes: int = Field(4000, gt=0, description="bytes of check output kept")
    commands: list[str] = Field(
        default_factory=list, description="extra plan-level checks applied to every milestone"
    )
    shell: str = Field("bash", description="shell that runs each check line")


DEFAULT_PROTECTED = (
    # Python
    "tests/**",
    "test/**",
    "**/test_*.py",
    "**/*_test.py",
    "**/conftest.py",
    "pytest.ini",
    "tox.ini",
    "noxfile.py",
    "setup.cfg#tool:pytest",
    "pyproject.toml#tool.pytest",
    # JavaScript / TypeScript
    "**/__tests__/**",
    "**/*.test.*",
    "**/*.spec.*",
    "jest.config.*",
    "vitest.config.*",
    "package.json#scripts",
    "package.json#jest",
    # Go, Rust
    "**/*_test.go",
    "**/testdata/**",
    # fixtures, expected outputs, build scripts
    "**/fixtures/**",
    "**/expected/**",
    "**/golden/**",
    "**/__snapshots__/**",
    "Makefile",
    "makefile",
    "GNUmakefile",
)


class VerifySettings(_Strict):
    """How validation keeps its verdict honest (see docs/verification.md)."""

    isolation: Literal["copy", "in_place"] = Field(
        "copy",
        description="copy: checks run over a separate copy of the candidate tree with the "
        "checkpoint's protected files; in_place: in the work tree itself (no protection)",
    )
    sandbox: Literal["auto", "codex", "off"] = Field(
        "auto",
        description="run each check under `codex sandbox` (codex: required, auto: fall back "
        "to no sandbox with a warning when it cannot start, off: never)",
    )
    protected: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PROTECTED),
        description="paths whose checkpoint version judges the milestone (globs; FILE#SECTION "
        "protects one table of pyproject.toml/setup.cfg or one key of package.json); files "
        "a check command names are protected too",
    )
    extra_protected: list[str] = Field(
        default_factory=list, description="more protected paths, added to `protected`"
    )
    environment_dirs: list[str] = Field(
        default_factory=lambda: [".venv", "venv", "node_modules"],
        description="gitignored environment directories linked (read-only) into the copy",
    )
    count_tests: bool = Field(
        True, description="count tests (pytest through a plugin, others from their output)"
    )
    baseline: bool = Field(
        True, description="run a milestone's checks on its checkpoint before the first step"
    )
    require_red_first: bool = Field(
        False, description="a milestone whose checks all pass at its checkpoint stops for a human"
    )
    holdout_checks: str | None = Field(
        None, description="TOML file of hidden acceptance checks kept outside the repository"
    )


class RunSettings(_Strict):
    """One run of a plan."""

    allow_dirty: bool = Field(False, description="run even if the work tree has changes")
    branch: str | None = Field(None, description="create and run on this branch")
    max_wall: Duration | None = Field(
        None, gt=0, description="wall-clock budget of this invocation, seconds"
    )
    deadline: str | None = Field(
        None, description="HH:MM local time (24-hour; 6:30 is 06:30); no milestone starts after"
    )
    deadline_grace: Duration = Field(
        900.0, ge=0, description="seconds a running milestone may go on"
    )
    max_tokens: int | None = Field(None, gt=0, description="token budget of this invocation")

    @field_validator("deadline")
    @classmethod
    def _valid_clock_time(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(
                f"invalid time {value!r}; expected a 24-hour local time H:MM or HH:MM "
                "between 00:00 and 23:59, e.g. 6:30 or 23:00"
            )
        return f"{int(match[1]):02d}:{match[2]}"


class BudgetSettings(_Strict):
    """Limits of a whole run, across all its invocations (``run`` sets this invocation's)."""

    total_tokens: int | None = Field(
        None, gt=0, description="token budget of the whole run, across invocations"
    )
    usage_limit_wait: Duration = Field(
        21600.0,
        ge=0,
        description="longest wait for a usage-limit reset when no --max-wall/--deadline bounds it",
    )


class HookSettings(_Strict):
    """Commands run on events, each given a JSON payload file path."""

    milestone_passed: list[str] = Field(default_factory=list, description="after a commit")
    needs_human: list[str] = Field(default_factory=list, description="run stopped for a human")
    gave_up: list[str] = Field(default_factory=list, description="max attempts or stalled")
    usage_limit: list[str] = Field(
        default_factory=list, description="stopped on a usage limit; payload has resets_at"
    )
    run_finished: list[str] = Field(default_factory=list, description="at the end of every run")
    timeout: Duration = Field(30.0, gt=0, description="seconds a hook may run")
    env: list[str] = Field(
        default_factory=list,
        description="more environment variables a hook receives (e.g. a webhook token); "
        "others are withheld",
    )


class LogSettings(_Strict):
    """What people and machines see."""

    format: Literal["auto", "console", "json"] = Field("auto", description="console log format")
    quiet: bool = Field(False, description="print nothing on success (cron)")
    live: bool = Field(True, description="live status area on a TTY")


class Settings(_Strict):
    """Every setting of the orchestrator."""

    codex: CodexSettings = Field(default_factory=CodexSettings)
    loop: LoopSettings = Field(default_factory=LoopSettings)
    checks: CheckSettings = Field(default_factory=CheckSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    hooks: HookSettings = Field(default_factory=HookSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    verify: VerifySettings = Field(default_factory=VerifySettings)
