"""What a passed milestone writes into the plan.

The agent's structured answers of a milestone become its Progress entry and
new Surprises & Discoveries and Decision Log entries. Pure text in, text out:
the runner writes the file.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from orchestrator.milestone.agent_step import answer_path
from orchestrator.milestone.answers import StepAnswer, answer_from_file
from orchestrator.plan import append_decision, append_discovery, record_milestone_progress
from orchestrator.plan.document import outline
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
    _outline_ahead(text)
    return text, summary


def _outline_ahead(text: str) -> None:
    """Parse the recorded plan on a worker thread while the plan is written and committed
    and the next milestone's steps run: the next milestone's record starts from this
    text and finds its outline cached instead of parsing the plan between two steps.
    Only a cache is filled (keyed by the text itself), so what is recorded is the same
    either way. One long-lived worker fed by a queue: ``Thread.start`` would wait for a
    new thread to take the interpreter lock, which is the wait this avoids."""
    global _worker
    with _worker_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_outline_worker, name="plan-outline", daemon=True)
            _worker.start()
    _pending.put(text)


_pending: queue.SimpleQueue[str] = queue.SimpleQueue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


def _outline_worker() -> None:
    while True:
        text = _pending.get()
        with contextlib.suppress(Exception):  # the record parses it again if this failed
            outline(text)
