"""Making the proposal cover every milestone when the plan's text allows it.

A plan is runnable when every milestone has a check or the plan has a
plan-level one. When some milestone names no check of its own and nothing is
plan-level, a command that runs the whole suite (``pytest -q``, ``cargo test``,
``npm test``: no file, filter or package argument) is promoted to plan-level:
the whole suite must pass after every milestone anyway.
"""

from __future__ import annotations

import re

from orchestrator.plan.adopt import shell
from orchestrator.plan.adopt.proposal import DerivedCheck, Proposal
from orchestrator.plan.model import ExecPlan

_SELECTORS = {"-k", "-p", "--package", "-run", "--filter", "-F", "-E", "--test", "-t", "--lib",
              "--bin", "--example", "-m", "--manifest-path", "-C", "--dir", "-pl",
              "--testNamePattern", "--grep", "-g", "--workspace", "-w"}  # fmt: skip
_INTERPRETER = re.compile(r"(?:python|node|ruby|php|perl|bash|sh|deno|bun)[\d.]*")
_PATHY = re.compile(r"(?:^|/)[\w.-]+\.\w{1,5}$|::|/(?!\.\.\.$)")


def suite_wide(command: str) -> bool:
    """Whether a check runs the whole project rather than a part of it."""
    try:
        simples = shell.split(command)
    except shell.Unparsable:
        return False
    if not simples or len(simples) > 2 or simples[0].program == "cd":
        return False
    words = simples[0].words
    if len(words) > 2 and _INTERPRETER.fullmatch(words[0]):
        if words[1] == "-m":
            words = words[2:]  # `python -m mypy pkg`: the module is the program
        elif _PATHY.search(words[1]):
            words = words[1:]  # `python manage.py check`: the script is the program, not a part
    if any(w in _SELECTORS or w.split("=", 1)[0] in _SELECTORS for w in words[1:]):
        return False
    return not any(_PATHY.search(w) for w in words[1:] if w not in {".", "./...", "./"})


def complete(
    plan: ExecPlan, checks: list[DerivedCheck], single: bool
) -> tuple[list[DerivedCheck], list[str]]:
    """The checks, with suite-wide ones promoted to plan-level when a milestone needs it."""
    if single or plan.checks or any(c.milestone is None for c in checks):
        return checks, []
    covered = {c.milestone for c in checks} | {m.id for m in plan.milestones if m.checks}
    bare = [m.id for m in plan.milestones if m.id not in covered]
    if not bare:
        return checks, []
    promote: list[DerivedCheck] = []
    for c in checks:
        if suite_wide(c.command) and all(p.command != c.command for p in promote):
            why = (
                f"{c.why}; made plan-level because it runs the whole suite and milestone(s) "
                f"{', '.join(bare)} name no check of their own"
            )
            promote.append(c.model_copy(update={"milestone": None, "why": why}))
    if not promote:
        return _carried(plan, checks)
    moved = {p.command for p in promote}
    kept = [c for c in checks if c.command not in moved]
    return [*kept, *promote], []


def _carried(plan: ExecPlan, checks: list[DerivedCheck]) -> tuple[list[DerivedCheck], list[str]]:
    """Give a milestone without checks those of the nearest milestone before it that has some:
    what was proven before must still hold. Milestones before any check stay without."""
    out = list(checks)
    previous: list[DerivedCheck] = []
    left: list[str] = []
    for m in plan.milestones:
        own = [c for c in checks if c.milestone == m.id] or (
            []
            if not m.checks
            else [DerivedCheck(command="", line=0, origin="", milestone=m.id, why="")]  # fmt: skip
        )
        if own:
            previous = [c for c in own if c.command]
            continue
        if not previous:
            left.append(m.id)
            continue
        source = previous[0].milestone
        for c in previous:
            why = (
                f"{c.why}; carried from milestone {source}: milestone {m.id} names no check of "
                "its own, so what was proven before must still hold"
            )
            out.append(c.model_copy(update={"milestone": m.id, "why": why, "carried_from": source}))
    notes = [f"milestones {', '.join(left)}: no check could be derived"] if left else []
    return out, notes


def needs_plan_level(proposal: Proposal) -> bool:
    """Whether some milestone stays without a check and nothing plan-level covers it."""
    if proposal.existing_plan_checks or proposal.for_milestone(None):
        return False
    covered = {c.milestone for c in proposal.checks} | set(proposal.covered)
    return any(m not in covered for m in proposal.milestones)
