"""Which milestones a new run runs: where the plan stands, and the selection flags.

Without flags a run starts where the plan says it stands: milestones the plan
marks done (see :mod:`orchestrator.plan.standing`) are skipped, with the reason.
``--from N`` runs N and every later milestone, done or not, and skips the ones
before; ``--redo N`` runs N again although it is marked done (repeatable);
``--until N`` ends the run after N; ``--only N`` is ``--from N --until N``.
Milestones run again do not count their commits from earlier runs as done.
:func:`plan_standing` adds an earlier run's recorded commits to what the plan's
text says; :func:`nothing_to_run` tells the person why a run has nothing to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from orchestrator.errors import UsageError
from orchestrator.plan.model import ExecPlan, Milestone
from orchestrator.plan.standing import Mark, plan_marks
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.ui import console

log = structlog.get_logger()


@dataclass(frozen=True)
class Selection:
    """The milestone selection flags of `orchestrator run`, as given (ids or numbers)."""

    only: str | None = None
    start: str | None = None
    until: str | None = None
    redo: Sequence[str] = ()

    @property
    def empty(self) -> bool:
        return not (self.only or self.start or self.until or self.redo)


@dataclass
class Choice:
    """What a new run does with each milestone."""

    skipped: dict[str, str] = field(default_factory=dict)
    redo: list[str] = field(default_factory=list)
    until: str | None = None
    marked_done: list[str] = field(default_factory=list)

    def to_run(self, plan: ExecPlan) -> list[str]:
        ids = [m.id for m in plan.milestones]
        last = ids.index(self.until) if self.until is not None else len(ids) - 1
        return [i for i in ids[: last + 1] if i not in self.skipped]


def resolve(plan: ExecPlan, given: str, flag: str) -> Milestone:
    """The milestone ``given`` names: its id (any case), else its number."""
    text = given.strip()
    for m in plan.milestones:
        if m.id == text:
            return m
    for m in plan.milestones:
        if m.id.casefold() == text.casefold().lstrip("#"):
            return m
    if text.isdigit():
        numbered = [m for m in plan.milestones if m.number == int(text)]
        if len(numbered) == 1:
            return numbered[0]
    ids = ", ".join(m.id for m in plan.milestones)
    raise UsageError(
        f"{flag} {given}: the plan {plan.path} has no milestone {given!r}; its milestones "
        f"are {ids} (`orchestrator check {plan.path}` lists them with their titles)"
    )


def choose(plan: ExecPlan, marks: Sequence[Mark], selection: Selection) -> Choice:
    """Decide, for a new run, which milestones it skips and why."""
    if selection.only and (selection.start or selection.until):
        raise UsageError(
            "--only N runs one milestone; use it without --from and --until "
            "(or use --from N --until M for a range)"
        )
    ids = [m.id for m in plan.milestones]
    by_id = {mark.milestone: mark for mark in marks}
    start: str | None
    until: str | None
    if selection.only:
        start_flag, start, until_flag, until = "--only", selection.only, "--only", selection.only
    else:
        start_flag, start = "--from", selection.start
        until_flag, until = "--until", selection.until
    first = ids.index(resolve(plan, start, start_flag).id) if start else None
    last = ids.index(resolve(plan, until, until_flag).id) if until else None
    if first is not None and last is not None and last < first:
        raise UsageError(
            f"--until {until} names a milestone before --from {start}; nothing would run"
        )
    redo = [resolve(plan, r, "--redo").id for r in selection.redo]
    choice = Choice(until=ids[last] if last is not None else None)
    for n, mid in enumerate(ids):
        mark = by_id.get(mid)
        if mark is not None and mark.done:
            choice.marked_done.append(mid)
        if first is not None and n < first:
            choice.skipped[mid] = f"before {start_flag} {start}"
        elif first is not None or mid in redo:
            choice.redo.append(mid)
        elif mark is not None and mark.done:
            choice.skipped[mid] = f"marked done in the plan: {mark.reason}"
    return choice


def plan_standing(git: Repo, plan_rel: str, text: str, plan: ExecPlan) -> list[Mark]:
    """What the plan's text marks done, and the milestones an earlier run committed
    (and recorded: a commit's trailers alone prove nothing)."""
    from orchestrator.guard.history import recorded_milestone_commits

    commits = recorded_milestone_commits(git, plan_rel)
    marks: list[Mark] = []
    for mark in plan_marks(text, plan):
        sha = commits.get(mark.milestone)
        if not mark.done and sha is not None:
            mark = Mark(mark.milestone, True, f"committed by an earlier run ({sha[:10]})")
        marks.append(mark)
    return marks


def nothing_to_run(plan_rel: str, plan: ExecPlan, choice: Choice, settings: Settings) -> int:
    """Say why a new run has nothing to do (the plan is complete, or the flags select
    only milestones marked done); exit 0, nothing written."""
    total = len(plan.milestones)
    every_done = len(choice.marked_done) == total
    if every_done and choice.until is None:
        first = f"{plan_rel} is complete: all {total} milestones are done."
    else:
        first = f"Nothing to run in {plan_rel}: every selected milestone is skipped."
    lines = [first, *(f"  milestone {mid}: {why}" for mid, why in choice.skipped.items())]
    lines.append(
        f"To run one again: `orchestrator run --redo N {plan_rel}` "
        f"(or `--from N` for N and every later one)."
    )
    log.info("nothing_to_run", plan=plan_rel, skipped=choice.skipped)
    if not settings.log.quiet:
        for line in lines:
            console.out(line)
    return 0
