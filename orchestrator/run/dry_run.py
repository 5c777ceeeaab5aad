"""``orchestrator run --dry-run PLAN``: what a run would do, without doing any of it.

Prints the milestones (which would run, which are skipped and why), the checks
each would be validated with (its own, the plan's and the config's, as a run
pins them), the first prompt each would send (the implement step's, word for
word), and anything that would stop the run before it starts. Takes no lock,
starts no codex, runs no check, writes no file.
"""

from __future__ import annotations

from orchestrator.milestone.asks import implement_prompt
from orchestrator.paths import find_codex
from orchestrator.plan.model import ExecPlan
from orchestrator.run.pinned import checks_for, pinned_checks
from orchestrator.run.selection import Choice
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.state import RunState, find_unfinished
from orchestrator.ui import console


def _notes(git: Repo, plan_rel: str, settings: Settings, fresh: bool) -> list[str]:
    notes = []
    unfinished = None if fresh else find_unfinished(git.root, plan_rel)
    if unfinished is not None:
        notes.append(
            f"run {unfinished.run_id} did not finish ({unfinished.status}): `orchestrator run` "
            "continues it where it stopped; with --fresh a new run starts as shown below"
        )
    if not settings.run.allow_dirty and git.is_dirty():
        paths = ", ".join(git.dirty_paths()[:10])
        notes.append(f"the work tree has uncommitted changes ({paths}): a run needs --allow-dirty")
    if settings.run.branch:
        notes.append(f"a run would create the branch {settings.run.branch} and run on it")
    return notes


def show_dry_run(
    *,
    git: Repo,
    plan_rel: str,
    text: str,
    plan: ExecPlan,
    choice: Choice,
    settings: Settings,
    fresh: bool = False,
) -> int:
    """Print the dry run of ``plan``; exit code 0."""
    pinned = RunState(
        run_id="dry-run", plan_path=plan_rel, pinned_checks=pinned_checks(plan, settings)
    )
    to_run = choice.to_run(plan)
    console.out(f"dry run of {plan_rel}: nothing is run and nothing is written")
    for note in _notes(git, plan_rel, settings, fresh):
        console.out(f"note: {note}")
    console.out("")
    for m in plan.milestones:
        if m.id in to_run:
            state = "would run"
        elif m.id in choice.skipped:
            state = f"skipped: {choice.skipped[m.id]}"
        else:
            state = f"not run: after --until {choice.until}"
        console.out(f"milestone {m.id}: {m.title}  ({state})")
        if m.id in to_run:
            for check in checks_for(pinned, m.id):
                console.out(f"  check {check.id}: {check.command}")
    gate = "on" if settings.loop.review_gate else "off"
    console.out("")
    console.out(
        f"review gate {gate}; up to {settings.loop.max_attempts} repairs per milestone; "
        f"codex {find_codex(settings.codex.binary) or '(not found: see codex.binary)'}"
        + (f", model {settings.codex.model}" if settings.codex.model else "")
    )
    console.out(
        "Review and repair prompts depend on the diff and the check results; their "
        "templates are in orchestrator/milestone/prompts/."
    )
    for m in plan.milestones:
        if m.id not in to_run:
            continue
        prompt = implement_prompt(m, checks_for(pinned, m.id), plan_rel=plan_rel, plan_text=text)
        console.out("")
        console.out(f"----- prompt of milestone {m.id}'s implement step ({len(prompt)} characters)")
        console.out(prompt.rstrip("\n"))
        console.out(f"----- end of milestone {m.id}'s prompt")
    return 0
