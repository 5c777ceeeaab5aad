"""``adopt --with-codex``: ask a read-only codex step for checks where the text has none.

Only milestones that nothing derivable covers are asked about. The step runs
with ``-s read-only`` and an output schema; its answer is validated, and every
proposed command goes through the same safety rules as the plan's own
commands: only those adopt would adopt anyway are kept, marked as proposed by
a model in the written block. A failed step leaves the proposal as it was.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
from pydantic import BaseModel, ConfigDict, ValidationError

from orchestrator.codex.runner import run_step_with_retries
from orchestrator.codex.step import Outcome, StepRequest
from orchestrator.paths import SCHEMAS_DIR
from orchestrator.plan.adopt.proposal import DerivedCheck, Proposal, Refusal
from orchestrator.plan.adopt.safety import judge_line
from orchestrator.plan.adopt.verdict import Kind
from orchestrator.settings.model import Settings

MAX_PER_MILESTONE = 3
_PROMPT = """You are helping adopt an ExecPlan: a Markdown plan whose milestones are built one
after another by an agent and proven done by shell commands that an orchestrator runs.
Read the repository (read-only; change nothing) and the plan below. For each milestone id
in this list, propose up to {n} shell commands that would prove it done: {milestones}.

Rules for every command: it runs from the repository root; it ends on its own within
minutes; it changes nothing outside the repository and needs no network, account,
server, database or person; it exits 0 only when the milestone's work is done (tests,
type checks, linters, builds, comparisons). Use the project's own tools as its files
show them. Propose nothing for a milestone you cannot prove with such a command.

Answer with the JSON object the output schema describes.

The plan ({path}):

{text}
"""


class _Proposed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    milestone: str
    command: str
    why: str


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposed_checks: list[_Proposed]


def uncovered(proposal: Proposal) -> list[str]:
    """Milestones with no derived or declared check (and nothing plan-level)."""
    if proposal.existing_plan_checks or proposal.for_milestone(None):
        return []
    have = {c.milestone for c in proposal.checks} | set(proposal.covered)
    return [m for m in proposal.milestones if m not in have]


def _filter(answer: _Answer, wanted: list[str]) -> tuple[list[DerivedCheck], list[Refusal]]:
    kept: list[DerivedCheck] = []
    refused: list[Refusal] = []
    for item in answer.proposed_checks:
        if item.milestone not in wanted or "\n" in item.command.strip():
            continue
        if sum(c.milestone == item.milestone for c in kept) >= MAX_PER_MILESTONE:
            continue
        verdict = judge_line(item.command)
        if verdict.kind is Kind.CHECK:
            kept.append(
                DerivedCheck(
                    command=item.command.strip(),
                    line=0,
                    origin="proposed by codex",
                    milestone=item.milestone,
                    why=f"proposed by a model: {item.why.strip()[:200]} ({verdict.reason})",
                    model_proposed=True,
                )
            )
        else:
            refused.append(
                Refusal(
                    command=item.command.strip(),
                    line=0,
                    origin="proposed by codex",
                    milestone=item.milestone,
                    category=verdict.kind.value,
                    reason=verdict.reason,
                )
            )
    return kept, refused


def with_codex(text: str, path: Path, proposal: Proposal, settings: Settings) -> Proposal:
    """The proposal completed by a read-only codex step, for milestones with nothing."""
    wanted = uncovered(proposal)
    if not wanted:
        return proposal.model_copy(update={"notes": [*proposal.notes, "codex: nothing to ask"]})
    prompt = _PROMPT.format(
        n=MAX_PER_MILESTONE, milestones=", ".join(wanted), path=path.name, text=text
    )
    with tempfile.TemporaryDirectory(prefix="orchestrator-adopt-") as tmp:
        request = StepRequest(
            prompt=prompt,
            cwd=path.resolve().parent,
            sandbox="read-only",
            output_schema=SCHEMAS_DIR / "adopt_checks.json",
            transcript=Path(tmp) / "adopt-codex.jsonl",
            last_message=Path(tmp) / "last.json",
            label="adopt",
        )
        result = anyio.run(run_step_with_retries, request, settings.codex)
    note = f"codex: the step ended {result.outcome.value}"
    if result.outcome is not Outcome.OK or not result.final_message:
        detail = f" ({result.error})" if result.error else ""
        return proposal.model_copy(update={"notes": [*proposal.notes, note + detail]})
    try:
        answer = _Answer.model_validate_json(result.final_message)
    except ValidationError as exc:
        bad = f"codex: its answer did not match the schema ({exc.error_count()} errors)"
        return proposal.model_copy(update={"notes": [*proposal.notes, bad]})
    kept, refused = _filter(answer, wanted)
    return proposal.model_copy(
        update={
            "checks": [*proposal.checks, *kept],
            "refused": [*proposal.refused, *refused],
            "notes": [*proposal.notes, f"codex: {len(kept)} kept, {len(refused)} refused"],
        }
    )
