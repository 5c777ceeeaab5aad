"""The structured answers: models, schema files, validation that never raises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.milestone.answers import (
    REVIEW_SCHEMA,
    STEP_SCHEMA,
    ReviewAnswer,
    StepAnswer,
    answer_from_file,
    parse_answer,
)

STEP_OK: dict[str, Any] = {
    "status": "done",
    "summary": "added the parser",
    "discoveries": [{"observation": "tabs matter", "evidence": "test_x fails with tabs"}],
    "decisions": [{"decision": "use a regex", "rationale": "simpler"}],
    "question": None,
}
REVIEW_OK: dict[str, Any] = {
    "verdict": "changes_requested",
    "summary": "one bug",
    "findings": [{"severity": "major", "path": "a.py", "message": "off by one"}],
    "question": None,
}


def _walk_objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_walk_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk_objects(value))
    return found


@pytest.mark.parametrize(
    ("path", "model"), [(STEP_SCHEMA, StepAnswer), (REVIEW_SCHEMA, ReviewAnswer)]
)
def test_schema_files_are_strict_and_match_models(path: Path, model: type[Any]) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    objects = _walk_objects(schema)
    assert len(objects) >= 2
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    assert sorted(schema["properties"]) == sorted(model.model_fields)


def test_valid_answers_parse() -> None:
    step, error = parse_answer(StepAnswer, STEP_OK)
    assert error is None
    assert step is not None
    assert step.discoveries[0].observation == "tabs matter"
    review, error = parse_answer(ReviewAnswer, json.dumps(REVIEW_OK))
    assert error is None
    assert review is not None
    assert review.findings[0].line() == "[major] a.py: off by one"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "no final answer"),
        ("not json at all", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ({**STEP_OK, "status": "finished"}, "status"),
        ({k: v for k, v in STEP_OK.items() if k != "question"}, "question"),
        ({**STEP_OK, "extra": 1}, "extra"),
    ],
)
def test_invalid_step_answers_explain_themselves(data: Any, expected: str) -> None:
    answer, error = parse_answer(StepAnswer, data)
    assert answer is None
    assert error is not None
    assert expected in error


def test_answer_from_file(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(REVIEW_OK), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert answer_from_file(ReviewAnswer, good) == ReviewAnswer.model_validate(REVIEW_OK)
    assert answer_from_file(ReviewAnswer, bad) is None
    assert answer_from_file(ReviewAnswer, tmp_path / "missing.json") is None
