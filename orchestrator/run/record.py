"""What a passed milestone writes into the plan.

The agent's structured answers of a milestone become its Progress entry and
new Surprises & Discoveries and Decision Log entries. Pure text in, text out:
the runner writes the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from orchestrator.milestone.agent_step import answer_path
from orchestrator.milestone.answers import StepAnswer, answer_from_file
from orchestrator.plan import append_decision, append_discovery, record_milestone_progress
from orchestrator.plan.model import Milestone
from orchestrator.store.state import MilestoneState


def step_answers(run_dir: Path, ms: MilestoneState) -> list[StepAnswer]:
    """The valid answers of the milestone's implement and repair steps, in order."""
    found = []
    for record in ms.steps:
        path = answer_path(run_dir, record)
        if record.kind in ("implement", "repair") and path is not None:
            answer = answer_from_file(StepAnswer, path)
            if answer is not None:
                found.append(answer)
    return found


def milestone_passed_text(
    text: str,
    milestone: Milestone,
    answers: list[StepAnswer],
    when: datetime,
    milestones: Sequence[Milestone],
) -> tuple[str, str]:
    """The plan with the milestone recorded, and the summary for its commit message."""
    summary = answers[-1].summary if answers else "validation passed"
    text = record_milestone_progress(
        text, milestone=milestone, summary=summary, when=when, milestones=milestones
    )
    for a in answers:
        for d in a.discoveries:
            if d.observation not in text:
                text = append_discovery(
                    text, observation=d.observation, evidence=d.evidence, when=when
                )
        for c in a.decisions:
            if c.decision not in text:
                text = append_decision(text, decision=c.decision, rationale=c.rationale, when=when)
    return text, summary
