"""The vocabulary of progress events a run logs through structlog.

The supervisor and the codex driver log these event names with these fields;
the log setup writes them to ``events.jsonl`` and the live display (tmux) and
quiet mode (cron) read them back from the structlog processor chain. Context
fields ``run_id``, ``milestone``, ``step`` and ``attempt`` are bound with
``structlog.contextvars.bind_contextvars`` by the supervisor.
"""

from __future__ import annotations

from enum import StrEnum


class ProgressEvent(StrEnum):
    """Event names (the ``event`` key of each log record) and their fields."""

    RUN_STARTED = "run_started"  # run_id, plan, milestones: list[{id, title, status}]
    MILESTONE_SKIPPED = "milestone_skipped"  # milestone, title, reason
    MILESTONE_STARTED = "milestone_started"  # milestone, title
    STEP_STARTED = "step_started"  # milestone, step (implement|review|repair), attempt
    CODEX_COMMAND_STARTED = "codex_command_started"  # command (live view only)
    CODEX_COMMAND_POLLED = "codex_command_polled"  # command, elapsed_s, polls (live view only)
    CODEX_COMMAND_RUNNING = "codex_command_running"  # command, elapsed_s, polls (heartbeat)
    CODEX_COMMAND = "codex_command"  # command, exit_code, status (one per command_execution)
    STEP_FINISHED = "step_finished"  # step, attempt, outcome, tokens, tokens_total, duration_s,
    # retries, reason (why a step did not end ok: the stall or timeout message)
    STEP_RETRY = "step_retry"  # attempt_no, max_attempts, reason, wait_s
    CHECKS_STARTED = "checks_started"  # attempt, checks: list[str] (ids)
    CHECKS_FINISHED = "checks_finished"  # attempt, passed: int, failed: list[str]
    REVIEW_VERDICT = "review_verdict"  # verdict, findings: int
    MILESTONE_FINISHED = "milestone_finished"  # milestone, status, attempts, commit
    USAGE_LIMIT_WAIT = "usage_limit_wait"  # until (unix time), wait_s, reason
    RUN_FINISHED = "run_finished"  # status, exit_code, tokens_total, duration_s, reason
