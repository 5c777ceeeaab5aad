"""The structured answers steps give (codex ``--output-schema``), and their validation.

Codex does not enforce the schema, so every answer is validated here. The field
names are a public contract (see docs/supervisor.md); the JSON schema files in
``orchestrator/milestone/schemas/`` and the models below describe the same shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from orchestrator.paths import SCHEMAS_DIR
from orchestrator.redact import Redactor
from orchestrator.store.state import Finding

STEP_SCHEMA = SCHEMAS_DIR / "step_answer.json"
REVIEW_SCHEMA = SCHEMAS_DIR / "review_answer.json"


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Discovery(_Answer):
    observation: str
    evidence: str


class Decision(_Answer):
    decision: str
    rationale: str


class StepAnswer(_Answer):
    """What an implement or repair step answers."""

    status: Literal["done", "blocked", "needs_human"]
    summary: str
    discoveries: list[Discovery]
    decisions: list[Decision]
    question: str | None


class ReviewAnswer(_Answer):
    """What a review step answers."""

    verdict: Literal["approve", "changes_requested", "needs_human"]
    summary: str
    findings: list[Finding]
    question: str | None
    weakening_approved: bool | None = None  # explicit approval of the weakening analysis


A = TypeVar("A", StepAnswer, ReviewAnswer)


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def parse_answer(model: type[A], data: dict[str, Any] | str | None) -> tuple[A | None, str | None]:
    """Validate an answer: ``(answer, None)`` or ``(None, reason)``. Never raises.

    ``data`` is the step's parsed JSON (``StepResult.answer``) or its raw final
    message text; ``None`` means the step gave no final message.
    """
    if data is None:
        return None, "the step gave no final answer"
    if isinstance(data, str):
        try:
            loaded: Any = json.loads(data)
        except json.JSONDecodeError as exc:
            return None, f"the final answer is not JSON ({exc.msg} at char {exc.pos})"
        if not isinstance(loaded, dict):
            return None, "the final answer is not a JSON object"
        data = loaded
    # Answers flow into the plan, commits and reports: secrets stop here.
    data = Redactor.from_env().data(data)
    try:
        return model.model_validate(data), None
    except ValidationError as exc:
        name = model.__name__
        return None, f"the final answer does not match the {name} schema: {_describe(exc)}"


def answer_from_file(model: type[A], path: Path) -> A | None:
    """The valid answer stored in an ``-o`` file, or None (missing, empty or invalid)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    answer, _ = parse_answer(model, text)
    return answer
