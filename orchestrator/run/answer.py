"""A person's answer to a stopped run (``orchestrator resume --answer TEXT``).

The answer is inserted into the plan's Decision Log (nothing else in the plan
changes) and kept on the milestone that stopped, whose next agent steps are
given it (see ``milestone/loop.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import structlog

from orchestrator.errors import UsageError
from orchestrator.store.state import MilestoneState, RunState

log = structlog.get_logger()


def _asked(state: RunState) -> MilestoneState:
    for wanted in ("needs_human", "gave_up", "interrupted", "running", "pending"):
        for ms in state.milestones:
            if ms.status == wanted:
                return ms
    raise UsageError(f"run {state.run_id} has no unfinished milestone to give an answer to")


def read_answer(text: str | None, file: Path | None) -> str | None:
    """The answer from ``--answer`` or ``--answer-file`` (exactly one), stripped."""
    if text is not None and file is not None:
        raise UsageError("give the answer with --answer or --answer-file, not both")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot read the answer file {file}: {exc.strerror or exc}; name a readable "
                'text file, or give the answer inline with --answer "..."'
            ) from None
        except UnicodeDecodeError:
            raise UsageError(
                f"the answer file {file} is not UTF-8 text; re-save it as UTF-8, or give the "
                'answer inline with --answer "..."'
            ) from None
    if text is None:
        return None
    if not text.strip():
        raise UsageError("the answer is empty; write what the agent should know or do")
    return text.strip()


def record_answer(plan_abs: Path, text: str, state: RunState, answer: str) -> str:
    """Insert ``answer`` into the Decision Log and keep it on the stopped milestone."""
    from orchestrator.plan import append_decision, write_plan_atomic

    ms = _asked(state)
    question = ms.stop_reason or "the question that stopped it"
    new = append_decision(
        text,
        decision=f"Milestone {ms.id}: {answer}",
        rationale=f"a person's answer (orchestrator resume --answer) to: {question}",
        when=datetime.now(UTC),
    )
    write_plan_atomic(plan_abs, new)
    ms.answer = answer
    log.info("answer_recorded", milestone=ms.id, plan=str(plan_abs))
    return new
