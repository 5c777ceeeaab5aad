"""Building blocks for loop/supervisor tests: plans, scenarios for the fake codex, settings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator.cli import main
from orchestrator.run.session import resume_run, start_run
from orchestrator.settings.model import (
    CheckSettings,
    CodexSettings,
    HookSettings,
    LoopSettings,
    RunSettings,
    Settings,
)
from orchestrator.store.state import RunState, list_runs
from tests.conftest import git as git  # the one git() helper

PLAN_REL = ".agent/plans/feature.md"
# Two milestones, each done when its file exists: m1.txt, m2.txt.
TWO_FILES: list[tuple[str, list[str]]] = [
    ("first", ["test -f m1.txt"]),
    ("second", ["test -f m2.txt"]),
]


def plan_text(
    milestones: Sequence[tuple[str, Sequence[str]]],
    *,
    plan_checks: Sequence[str] = (),
    header: str = "",
    title: str = "Feature plan",
) -> str:
    """An ExecPlan with one ``validate`` block per milestone (``(title, checks)``)."""
    parts = [header, f"# {title}", "", "## Purpose / Big Picture", "", "Make files appear.", ""]
    parts += ["## Progress", ""]
    parts += [f"- [ ] Milestone {i}: {name}" for i, (name, _) in enumerate(milestones, 1)]
    parts += ["", "## Surprises & Discoveries", "", "None yet.", ""]
    parts += ["## Decision Log", "", "None yet.", ""]
    parts += ["## Outcomes & Retrospective", "", "Not started.", ""]
    parts += ["## Context and Orientation", "", "A scratch repository.", ""]
    parts += ["## Plan of Work", ""]
    for i, (name, checks) in enumerate(milestones, 1):
        parts += [f"### Milestone {i}: {name}", "", f"Do step {i}.", ""]
        if checks:
            parts += ["```sh validate", *checks, "```", ""]
    parts += ["## Concrete Steps", "", "Run the checks.", ""]
    parts += ["## Validation and Acceptance", ""]
    if plan_checks:
        parts += ["```sh validate", *plan_checks, "```", ""]
    else:
        parts += ["Each milestone's checks pass.", ""]
    return "\n".join(parts).lstrip("\n")


def write_plan(
    repo: Path,
    milestones: Sequence[tuple[str, Sequence[str]]],
    *,
    plan_checks: Sequence[str] = (),
    header: str = "",
    commit: bool = True,
) -> Path:
    """Write (and commit) an ExecPlan with one ``validate`` block per milestone."""
    path = repo / PLAN_REL
    path.parent.mkdir(parents=True, exist_ok=True)
    text = plan_text(milestones, plan_checks=plan_checks, header=header)
    path.write_text(text, encoding="utf-8")
    if commit:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "add plan")
    return path


def step_answer(
    summary: str = "did it",
    *,
    status: str = "done",
    discoveries: Sequence[tuple[str, str]] = (),
    decisions: Sequence[tuple[str, str]] = (),
    question: str | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "summary": summary,
        "discoveries": [{"observation": o, "evidence": e} for o, e in discoveries],
        "decisions": [{"decision": d, "rationale": r} for d, r in decisions],
        "question": question,
    }


def review_answer(
    verdict: str = "approve",
    *,
    findings: Sequence[str] = (),
    question: str | None = None,
    summary: str = "reviewed",
) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "summary": summary,
        "findings": [{"severity": "major", "path": None, "message": m} for m in findings],
        "question": question,
    }


def rule(
    name: str,
    *,
    contains: str | None = None,
    schema: str | None = None,
    commands: Sequence[str] = (),
    answer: dict[str, Any] | None = None,
    message: str | None = None,
    times: int | None = None,
    fault: dict[str, Any] | None = None,
) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if contains is not None:
        match["prompt_contains"] = contains
    if schema is not None:
        match["schema_property"] = schema
    reply: dict[str, Any] = {"commands": list(commands)}
    if answer is not None:
        reply["answer"] = answer
    if message is not None:
        reply["message"] = message
    if fault is not None:
        reply["fault"] = fault
    out: dict[str, Any] = {"name": name, "match": match, "reply": reply}
    if times is not None:
        out["times"] = times
    return out


def implement(milestone: str, *commands: str, **answer: Any) -> dict[str, Any]:
    """A rule for the implement step of ``milestone``."""
    return rule(
        f"implement-{milestone}",
        contains=f"step=implement milestone={milestone} ",
        commands=commands,
        answer=step_answer(**answer),
    )


def repair(milestone: str, *commands: str, summary: str = "did it") -> dict[str, Any]:
    """A rule (named ``repair``) for every repair step of ``milestone``."""
    return rule(
        "repair",
        contains=f"step=repair milestone={milestone} ",
        commands=commands,
        answer=step_answer(summary),
    )


def failure_review(*findings: str) -> dict[str, Any]:
    """A rule for the review of a failed validation: it asks for ``findings``."""
    return rule(
        "failure-review",
        contains="mode=failure",
        answer=review_answer("changes_requested", findings=findings),
    )


def approve_all() -> dict[str, Any]:
    return rule("approve", schema="verdict", answer=review_answer("approve"))


def write_scenario(path: Path, rules: Sequence[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"rules": list(rules)}, indent=1), encoding="utf-8")
    return path


def invocations(scenario: Path) -> list[dict[str, Any]]:
    """The fake codex's record of every invocation (from its state file)."""
    state_file = scenario.with_name(scenario.name + ".state.json")
    if not state_file.exists():
        return []
    data: dict[str, Any] = json.loads(state_file.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = data.get("invocations", [])
    return found


def make_settings(fake: Path, **sections: dict[str, Any]) -> Settings:
    """Settings for fast tests with the fake codex; ``loop={...}`` etc. override sections."""
    codex = {
        "binary": str(fake),
        "step_timeout": 60.0,
        "stall_timeout": 60.0,
        "retries": 0,
        "kill_grace": 1.0,
        **sections.get("codex", {}),
    }
    return Settings(
        codex=CodexSettings(**codex),
        loop=LoopSettings(**sections.get("loop", {})),
        checks=CheckSettings(**{"timeout": 30.0, **sections.get("checks", {})}),
        run=RunSettings(**sections.get("run", {})),
        hooks=HookSettings(**sections.get("hooks", {})),
    )


def milestones_on(repo: Path, branch: str) -> list[str]:
    """The ``Milestone:`` trailers on ``branch``'s history, newest first."""
    out = git(repo, "log", branch, "--format=%(trailers:key=Milestone,valueonly)")
    return [line.strip() for line in out.splitlines() if line.strip()]


def log_subjects(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s").splitlines()


def run_cli(repo: Path, fake: Path | str, command: str, *args: str) -> int:
    """``orchestrator -C REPO COMMAND --codex-bin FAKE ARGS...`` in this process."""
    return main(["-C", str(repo), command, "--codex-bin", str(fake), *args])


def run_plan(repo: Path, settings: Settings) -> tuple[int, RunState]:
    """Start a run of the plan at PLAN_REL; its exit code and the newest run's state."""
    code = start_run(repo=repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    return code, list_runs(repo)[0]


def resume_plan(repo: Path, settings: Settings) -> tuple[int, RunState]:
    """Resume the newest unfinished run; its exit code and the newest run's state."""
    code = resume_run(repo=repo, plan_path=None, run_id=None, rebuild=False, settings=settings)
    return code, list_runs(repo)[0]
