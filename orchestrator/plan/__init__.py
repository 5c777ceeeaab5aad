"""The ExecPlan document: parse, edit, lint.

The names below load their module on first use, so that importing one light module
of the package (``plan.text``, ``plan.prescan``) does not load the parser, the
models and markdown-it with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "add_progress_item": "edit",
    "append_decision": "edit",
    "append_discovery": "edit",
    "Mark": "standing",
    "load_plan": "document",
    "parse_plan": "document",
    "plan_marks": "standing",
    "read_plan_text": "text",
    "record_milestone_progress": "ticking",
    "write_outcomes": "edit",
    "write_plan_atomic": "text",
}
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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
