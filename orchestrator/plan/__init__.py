"""The ExecPlan document: parse, edit, lint."""

from __future__ import annotations

from orchestrator.plan.document import load_plan, parse_plan
from orchestrator.plan.edit import (
    add_progress_item,
    append_decision,
    append_discovery,
    record_milestone_progress,
    write_outcomes,
)
from orchestrator.plan.text import read_plan_text, write_plan_atomic

__all__ = [
    "add_progress_item",
    "append_decision",
    "append_discovery",
    "load_plan",
    "parse_plan",
    "read_plan_text",
    "record_milestone_progress",
    "write_outcomes",
    "write_plan_atomic",
]
