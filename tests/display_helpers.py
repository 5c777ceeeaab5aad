"""A synthetic progress event sequence, as the supervisor would log it."""

from __future__ import annotations

from typing import Any

import structlog

SEQUENCE: list[tuple[str, dict[str, Any]]] = [
    (
        "run_started",
        {
            "plan": "plans/widget.md",
            "milestones": [
                {"id": "M1", "title": "Parse widgets", "status": "pending"},
                {"id": "M2", "title": "Render widgets", "status": "pending"},
                {"id": "M3", "title": "Ship it", "status": "pending"},
            ],
        },
    ),
    ("milestone_started", {"milestone": "M1", "title": "Parse widgets"}),
    ("step_started", {"milestone": "M1", "step": "implement", "attempt": 0}),
    ("codex_command", {"command": "pytest -q tests/test_widget.py", "exit_code": 0}),
    ("step_finished", {"step": "implement", "attempt": 0, "tokens": 1200, "tokens_total": 1200}),
    ("checks_finished", {"attempt": 0, "passed": 2, "failed": []}),
    ("review_verdict", {"verdict": "approve", "findings": 0}),
    (
        "milestone_finished",
        {"milestone": "M1", "status": "passed", "attempts": 1, "commit": "abcdef1234567"},
    ),
    ("milestone_started", {"milestone": "M2", "title": "Render widgets"}),
    ("step_started", {"milestone": "M2", "step": "repair", "attempt": 2}),
    ("codex_command", {"command": "make lint", "exit_code": 2}),
    ("checks_finished", {"attempt": 2, "passed": 1, "failed": ["unit-tests"]}),
    ("step_finished", {"step": "repair", "attempt": 2, "tokens": 800, "tokens_total": 45678}),
    ("step_started", {"milestone": "M2", "step": "repair", "attempt": 3}),
]


def log_sequence(run_id: str = "run-42") -> None:
    """Log SEQUENCE through structlog (configure_logging must have been called)."""
    log = structlog.get_logger()
    for event, fields in SEQUENCE:
        log.info(event, run_id=run_id, **fields)
