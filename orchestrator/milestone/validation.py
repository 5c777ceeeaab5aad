"""Validation: the orchestrator runs each check command itself.

Each command line runs in ``settings.shell`` (bash with ``pipefail`` by
default) with stderr merged into stdout, under ``settings.timeout``. Every
check runs, even after a failure, so the findings of a milestone are
complete. Only a bounded, redacted tail of the output is kept in memory; the
full output goes to ``log_dir/check-<id>.log`` when a directory is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import structlog

from orchestrator.milestone import expectations
from orchestrator.plan.model import Check
from orchestrator.process.child import ProcessRequest, run_process
from orchestrator.settings.model import CheckSettings
from orchestrator.store.state import CheckRecord

log = structlog.get_logger()

_PIPEFAIL_SHELLS = {"bash", "zsh", "ksh", "mksh"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class CheckResult(CheckRecord):
    """The result of one check: exactly the shape stored in the run state."""


def check_argv(command: str, shell: str) -> list[str]:
    """argv running ``command`` in ``shell`` with stderr merged into stdout."""
    argv = [shell]
    if os.path.basename(shell) in _PIPEFAIL_SHELLS:
        argv += ["-o", "pipefail"]
    return [*argv, "-c", f"exec 2>&1\n{command}"]


def log_file(log_dir: Path, check_id: str) -> Path:
    return log_dir / f"check-{_UNSAFE.sub('_', check_id)}.log"


def _tail(text: str, limit: int) -> str:
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return "…" + data[-limit:].decode("utf-8", "ignore")


async def run_check(
    check: Check,
    *,
    cwd: Path,
    settings: CheckSettings,
    log_dir: Path | None,
    wrap: Callable[[list[str]], list[str]] | None = None,
    env: Mapping[str, str] | None = None,
    transcript_name: str | None = None,
) -> CheckResult:
    """Run one check command and say how it went.

    ``wrap`` turns the shell's argv into the one started (the sandbox), ``env`` adds to
    the inherited environment, ``transcript_name`` replaces the command in the log file.
    """
    transcript = None
    if log_dir is not None:
        transcript = log_file(log_dir, check.id)
        transcript.parent.mkdir(parents=True, exist_ok=True)
        transcript.write_text(f"$ {transcript_name or check.command}\n", encoding="utf-8")
    argv = check_argv(check.command, settings.shell)
    outcome = await run_process(
        ProcessRequest(
            argv=wrap(argv) if wrap is not None else argv,
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            label=transcript_name,
            timeout=settings.timeout,
            transcript=transcript,
            tail_bytes=settings.output_tail_bytes,
        )
    )
    output = outcome.stdout_tail + outcome.stderr_tail
    if outcome.ended == "timeout":
        output += f"\n[check timed out after {settings.timeout:g}s and was stopped]"
    elif outcome.ended == "not_found":
        output += f"\n[the check shell {settings.shell!r} could not be started]"
    elif outcome.ended == "signalled":
        output += f"\n[check killed by signal {outcome.signal}]"
    passed = outcome.ended == "exited" and outcome.exit_code == 0
    if passed and check.expect:
        missing = expectations.unmet(check.expect, expectations.full_output(transcript, output))
        if missing:
            passed = False
            output += "\n" + expectations.describe(missing)
    result = CheckResult(
        check_id=check.id,
        command=check.command,
        exit_code=outcome.exit_code,
        passed=passed,
        ended=outcome.ended,
        duration_s=outcome.duration_s,
        output_tail=_tail(output, settings.output_tail_bytes),
    )
    log.info(
        "check_finished",
        check=check.id,
        passed=result.passed,
        exit_code=result.exit_code,
        ended=result.ended,
        duration_s=round(result.duration_s, 3),
    )
    return result


async def run_checks(
    checks: Sequence[Check], *, cwd: Path, settings: CheckSettings, log_dir: Path | None
) -> list[CheckResult]:
    """Run every check in order (not stopping at a failure); results in the same order."""
    return [await run_check(check, cwd=cwd, settings=settings, log_dir=log_dir) for check in checks]
