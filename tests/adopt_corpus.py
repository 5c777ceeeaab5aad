"""The labelled corpus of real-world-style plans in tests/data/adopt/ (shared by tests and bench).

Each ``NAME.md`` has a ``NAME.json`` beside it: ``adopt`` lists commands that must
be adopted (with the milestone they belong to, ``null`` for plan-level, and
optionally text their expectation must hold; no milestone when the parser does not
read that plan's milestones yet), ``refuse`` lists commands that
must never be adopted, ``runnable_after_write`` says whether ``check`` must pass
after ``adopt --write``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "data" / "adopt"


@dataclass(frozen=True)
class Labelled:
    name: str
    plan: Path
    adopt: list[dict[str, Any]]
    refuse: list[str]
    runnable_after_write: bool


def norm(command: str) -> str:
    return " ".join(command.split())


def corpus() -> list[Labelled]:
    out = []
    for plan in sorted(CORPUS.glob("*.md")):
        labels = json.loads(plan.with_suffix(".json").read_text(encoding="utf-8"))
        out.append(
            Labelled(
                name=plan.stem,
                plan=plan,
                adopt=labels["adopt"],
                refuse=labels["refuse"],
                runnable_after_write=labels["runnable_after_write"],
            )
        )
    return out
