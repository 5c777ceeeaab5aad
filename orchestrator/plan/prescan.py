"""A look at a file's lines, before the parser, for what is certainly not a plan.

:func:`~orchestrator.plan.document.parse_plan` refuses a text in which no heading
names a plan section or a milestone (:func:`not_a_plan`). :func:`headings_if_not_a_plan`
reaches the same verdict from the lines alone, without markdown-it or the plan models,
when the text is simple enough for its headings to be read off line by line: no code
fences, HTML blocks, tables or front matter, and every ``#`` that could open a heading
at the start of a line. Anything else is left to the parser (None), which stays the
authority; the early exit of `run` (see :mod:`orchestrator.run.early`) uses this.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.errors import PlanError
from orchestrator.plan.milestone_heading import match_heading
from orchestrator.plan.sections import classify
from orchestrator.plan.text import BOM, line_body, split_lines

_ATX = re.compile(r"^(#{1,6})(?:[ \t]|$)")
_CLOSING = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
# A '#' after nothing but these may open a heading (indented, in a list or a quote).
_BEFORE_HEADING = re.compile(r"^[ \t>*+\-\d.)]*#")
_FRONT_MATTER = re.compile(r"^---\s*$")


def not_a_plan(path: Path, headings: int) -> PlanError:
    """The error for a file none of whose ``headings`` names a section or a milestone."""
    return PlanError(
        f"{path} does not look like an ExecPlan: none of its {headings} "
        "headings names a plan section (Purpose, Progress, Plan of Work, Validation and "
        "Acceptance, ...) or a milestone. Write the plan as described in .agent/PLANS.md "
        "(`orchestrator init` adds a template), or pass the right file."
    )


def _names_something(text: str) -> bool:
    """Whether a heading's text could name a section or a milestone, read either way
    (with and without a closing ``#`` sequence)."""
    bare = _CLOSING.sub("", text).strip()
    return any(classify(t) is not None or match_heading(t) is not None for t in (text, bare))


def headings_if_not_a_plan(text: str) -> int | None:
    """The number of headings of a text that is certainly not a plan; None when the
    text may be one, or only the parser can tell."""
    bodies = [line_body(x) for x in split_lines(text)]
    if bodies and bodies[0].startswith(BOM):
        bodies[0] = bodies[0][len(BOM) :]
    if bodies and _FRONT_MATTER.match(bodies[0]):
        return None
    headings = 0
    for body in bodies:
        if "```" in body or "~~~" in body or "|" in body or body.lstrip().startswith("<"):
            return None
        atx = _ATX.match(body)
        if atx is not None:
            if _names_something(body[len(atx.group(1)) :].strip()):
                return None
            headings += 1
        elif _BEFORE_HEADING.match(body):
            return None
        elif match_heading(body.strip(), prose=True) is not None:
            return None  # a paragraph that opens with a milestone
    return headings
