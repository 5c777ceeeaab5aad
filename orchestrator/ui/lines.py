"""Progress events as short lines for people (the console without the live area).

``events.jsonl`` keeps every field; a person following a run in a plain terminal,
a cron mail or a CI log wants one readable line per step instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.settings.durations import format_duration
from orchestrator.ui.events import ProgressEvent
from orchestrator.ui.text import one_line, polled

Fields = Mapping[str, Any]


def _short(value: object, limit: int = 100) -> str:
    return one_line(str(value), limit)


def _seconds(value: object) -> str:
    return f"{value:.1f}s" if isinstance(value, int | float) else "?"


def _run_started(f: Fields) -> str:
    milestones = f.get("milestones") or []
    done = sum(1 for m in milestones if isinstance(m, dict) and m.get("status") == "passed")
    skipped = sum(1 for m in milestones if isinstance(m, dict) and m.get("status") == "skipped")
    tail = f", {done} already passed" if done else ""
    tail += f", {skipped} skipped" if skipped else ""
    return f"run {f.get('run_id')}: {f.get('plan')}, {len(milestones)} milestones{tail}"


def _milestone_skipped(f: Fields) -> str:
    return f"milestone {f.get('milestone')} skipped: {f.get('reason')}"


def _milestone_started(f: Fields) -> str:
    return f"milestone {f.get('milestone')}: {f.get('title')}"


def _step_started(f: Fields) -> str:
    return f"  {f.get('step')} (round {f.get('attempt')})"


def _codex_command(f: Fields) -> str:
    return f"    $ {_short(f.get('command', ''))}  (exit {f.get('exit_code')})"


def _codex_command_started(f: Fields) -> str:
    return f"    $ {_short(f.get('command', ''))}  (started)"


def _codex_command_running(f: Fields) -> str:
    polls = f.get("polls")
    polled_text = f", {polled(polls)}" if isinstance(polls, int) and polls > 0 else ""
    elapsed = f.get("elapsed_s")
    ran = format_duration(elapsed) if isinstance(elapsed, int | float) else "?"
    return f"    … $ {_short(f.get('command', ''))}  still running after {ran}{polled_text}"


def _step_finished(f: Fields) -> str:
    tokens = f.get("tokens")
    spent = f", {tokens} tokens" if tokens else ""
    retries = f", {f.get('retries')} retries" if f.get("retries") else ""
    reason = f": {_short(f.get('reason'), 300)}" if f.get("reason") else ""
    return (
        f"  {f.get('step')} done: {f.get('outcome')} in {_seconds(f.get('duration_s'))}"
        f"{spent}{retries}{reason}"
    )


def _checks_started(f: Fields) -> str:
    checks = f.get("checks")
    count = len(checks) if isinstance(checks, list) else "?"
    return f"  checks (round {f.get('attempt')}): running {count}"


def _checks_finished(f: Fields) -> str:
    failed = list(f.get("failed") or [])
    if not failed:
        return f"  checks: all {f.get('passed')} passed"
    return f"  checks: {f.get('passed')} passed, failed: {', '.join(map(str, failed))}"


def _review_verdict(f: Fields) -> str:
    problem = f": {_short(f.get('problem'))}" if f.get("problem") else ""
    return f"  review: {f.get('verdict')} ({f.get('findings')} findings){problem}"


def _milestone_finished(f: Fields) -> str:
    commit = str(f.get("commit") or "")[:10]
    where = f", commit {commit}" if commit else ""
    return f"milestone {f.get('milestone')} {f.get('status')}{where}"


def _run_finished(f: Fields) -> str:
    reason = f": {_short(f.get('reason'))}" if f.get("reason") else ""
    return (
        f"run {f.get('status')} (exit {f.get('exit_code')}) in {_seconds(f.get('duration_s'))}, "
        f"{f.get('tokens_total', 0)} tokens{reason}"
    )


def _usage_limit_wait(f: Fields) -> str:
    until = f.get("until")
    at = time.strftime("%H:%M", time.localtime(float(until))) if until else "?"
    return (
        f"usage limit: waiting until {at} ({_seconds(f.get('wait_s'))}), then the same step again"
    )


_LINES: dict[str, Callable[[Fields], str]] = {
    ProgressEvent.RUN_STARTED: _run_started,
    ProgressEvent.MILESTONE_SKIPPED: _milestone_skipped,
    ProgressEvent.MILESTONE_STARTED: _milestone_started,
    ProgressEvent.STEP_STARTED: _step_started,
    ProgressEvent.CODEX_COMMAND_STARTED: _codex_command_started,
    ProgressEvent.CODEX_COMMAND_POLLED: _codex_command_running,
    ProgressEvent.CODEX_COMMAND_RUNNING: _codex_command_running,
    ProgressEvent.CODEX_COMMAND: _codex_command,
    ProgressEvent.STEP_FINISHED: _step_finished,
    ProgressEvent.CHECKS_STARTED: _checks_started,
    ProgressEvent.CHECKS_FINISHED: _checks_finished,
    ProgressEvent.REVIEW_VERDICT: _review_verdict,
    ProgressEvent.MILESTONE_FINISHED: _milestone_finished,
    ProgressEvent.USAGE_LIMIT_WAIT: _usage_limit_wait,
    ProgressEvent.RUN_FINISHED: _run_finished,
}


def progress_line(fields: Fields) -> str | None:
    """The line for a progress event, or None for any other record."""
    render = _LINES.get(str(fields.get("event")))
    return render(fields) if render is not None else None


def line_style(fields: Fields) -> str | None:
    """The colour a progress line is shown in (when colour is on), or None for plain."""
    event = str(fields.get("event"))
    if event == ProgressEvent.MILESTONE_STARTED:
        return "bold"
    if event in (ProgressEvent.MILESTONE_FINISHED, ProgressEvent.RUN_FINISHED):
        return "green" if fields.get("status") == "passed" else "yellow"
    if event == ProgressEvent.CHECKS_FINISHED:
        return "red" if fields.get("failed") else "green"
    if event == ProgressEvent.REVIEW_VERDICT:
        return "green" if fields.get("verdict") == "approve" else "yellow"
    if event == ProgressEvent.CODEX_COMMAND:
        return "dim"
    return None
