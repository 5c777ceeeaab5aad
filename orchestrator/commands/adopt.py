"""``orchestrator adopt PLAN``: propose checks derived from the plan's own text.

Prints, per milestone and plan-wide, each derived check (command, source line,
expected output, why it counts) and each refused command with its reason.
``--write`` inserts the checks as ``validate`` blocks (insertions only);
``--json`` prints the proposal. Never runs a command.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.errors import ExitCode, PlanError
from orchestrator.plan.adopt.coverage import needs_plan_level
from orchestrator.plan.adopt.derive import derive
from orchestrator.plan.adopt.project import suggestions
from orchestrator.plan.adopt.proposal import DerivedCheck, Proposal
from orchestrator.plan.adopt.write import insert_checks, only_insertions
from orchestrator.plan.text import read_plan_text, write_plan_atomic
from orchestrator.settings.model import Settings
from orchestrator.ui import console


def propose(path: Path, codex_settings: Settings | None = None) -> tuple[str, Proposal]:
    """The plan's text and the proposal for it (with codex's and the project's suggestions
    for what the text leaves uncovered)."""
    text = read_plan_text(path)
    proposal = derive(text, path)
    if codex_settings is not None:
        from orchestrator.commands.adopt_codex import with_codex

        proposal = with_codex(text, path, proposal, codex_settings)
    if needs_plan_level(proposal):
        extra = suggestions(path)
        if extra:
            proposal = proposal.model_copy(update={"checks": [*proposal.checks, *extra]})
    return text, proposal


def _check_lines(c: DerivedCheck) -> list[str]:
    where = f"line {c.line}, {c.origin}"
    if c.suggestion or c.model_proposed:
        where = "suggested from the project files" if c.suggestion else "proposed by codex"
    out = [f"  + {c.command}", f"      from: {where}"]
    out += [f"      expect: {e}" for e in c.expect]
    out.append(f"      why: {c.why}")
    return out


def render(proposal: Proposal) -> list[str]:
    """The proposal as lines a person reads."""
    path = proposal.path
    n_ms = len({c.milestone for c in proposal.checks if c.milestone is not None})
    n_plan = len(proposal.for_milestone(None))
    lines = [
        f"{path}: {len(proposal.checks)} checks derived ({n_ms} milestones, {n_plan} plan-level), "
        f"{len(proposal.refused)} commands or statements refused"
    ]
    for m in proposal.milestones:
        own = proposal.for_milestone(m)
        if own:
            lines += ["", f"milestone {m}:"]
            for c in own:
                lines += _check_lines(c)
    if n_plan:
        lines += ["", "plan-level (Validation and Acceptance):"]
        for c in proposal.for_milestone(None):
            lines += _check_lines(c)
    if proposal.refused:
        lines += ["", "refused (never adopted):"]
        for r in proposal.refused:
            lines.append(f"  - {r.command}")
            lines.append(f"      line {r.line}: {r.category}: {r.reason}")
    lines += [f"note: {n}" for n in proposal.notes]
    return lines


def adopt_command(
    path: Path, write: bool, as_json: bool, codex_settings: Settings | None = None
) -> int:
    """The ``adopt`` subcommand (``codex_settings``: also ask codex, ``--with-codex``)."""
    text, proposal = propose(path, codex_settings)
    if as_json:
        console.out(proposal.model_dump_json(indent=2))
    else:
        for line in render(proposal):
            console.out(line)
    if not write:
        if proposal.checks and not as_json:
            console.out("")
            console.out(f"next: orchestrator adopt --write {path}  (then review: git diff {path})")
        return int(ExitCode.OK)
    if not proposal.checks:
        console.err(f"{path}: nothing to write: no check could be derived from the plan's text")
        return int(ExitCode.OK)
    new_text, notes = insert_checks(text, path, proposal)
    if not only_insertions(text, new_text):  # pragma: no cover - a bug, never the plan's fault
        raise PlanError(f"{path}: adopt would change existing lines; nothing was written")
    for note in notes:
        console.err(f"{path}: {note}")
    if new_text == text:
        return int(ExitCode.OK)
    write_plan_atomic(path, new_text)
    console.err(
        f"{path}: inserted the derived checks as `validate` blocks; review them with "
        f"`git diff {path}` and `orchestrator check {path}` before committing"
    )
    return int(ExitCode.OK)
