"""The ExecPlan document: parse, edit, lint."""

from __future__ import annotations

from orchestrator.plan.document import load_plan, parse_plan
from orchestrator.plan.edit import (
    add_progress_item,
    append_decision,
    append_discovery,
    write_outcomes,
)
from orchestrator.plan.standing import Mark, plan_marks
from orchestrator.plan.text import read_plan_text, write_plan_atomic
from orchestrator.plan.ticking import record_milestone_progress

__all__ = [
    "add_progress_item",
    "append_decision",
    "append_discovery",
    "Mark",
    "load_plan",
    "parse_plan",
    "plan_marks",
    "read_plan_text",
    "record_milestone_progress",
    "write_outcomes",
    "write_plan_atomic",
]
