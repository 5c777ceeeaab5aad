"""The loop's decisions (stops, attempts, fingerprints, resume) through its two ports.

``ctx.agent`` and ``ctx.validator`` are small async fakes here: the agent edits the
work tree as a script says and answers; the validator reads the tree. The repository
is real git (diffs and fingerprints come from it); no codex process runs. The same
branches run end to end, with real processes, in test_loop.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orchestrator.codex.step import Outcome, StepResult
from orchestrator.milestone.agent_step import PlanKeeper, StepContext, StepRun
from orchestrator.milestone.loop import LoopResult, run_milestone
from orchestrator.milestone.ports import AgentStepRequest
from orchestrator.plan import parse_plan
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.state import CheckRecord, MilestoneState, Phase, RunState, StepRecord
from tests.chaos_helpers import plan_text, step_answer
from tests.conftest import git
from tests.supervisor_helpers import review_answer

PLAN_REL = ".agent/plans/p.md"


@dataclass
class Turn:
    """What the fake agent does for one step: write files, then answer (or fail)."""

    writes: dict[str, str] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    outcome: Outcome = Outcome.OK
    error: str | None = None


@dataclass
class FakeAgent:
    """Plays ``turns[kind]`` in order (the last one repeats) and records each request."""

    turns: dict[str, list[Turn]]
    requests: list[AgentStepRequest] = field(default_factory=list)

    async def __call__(self, ctx: StepContext, request: AgentStepRequest) -> StepRun:
        self.requests.append(request)
        played = sum(r.kind == request.kind for r in self.requests) - 1
        script = self.turns[request.kind]
        turn = script[min(played, len(script) - 1)]
        for name, text in turn.writes.items():
            (ctx.repo_root / name).write_text(text, encoding="utf-8")
        default = step_answer("did it") if request.schema == "step" else None
        answer = turn.answer or default
        result = StepResult(
            outcome=turn.outcome,
            exit_code=0 if turn.outcome is Outcome.OK else 1,
            thread_id="thread-1",
            final_message=json.dumps(answer) if answer is not None else None,
            error=turn.error,
            started_at=0.0,
            duration_s=0.0,
            transcript=ctx.run_dir / "steps" / f"{len(self.requests):03d}.jsonl",
        )
        record = StepRecord(
            kind=request.kind,
            attempt=request.attempt,
            thread_id="thread-1",
            outcome=turn.outcome.value,
        )
        ctx.ms.steps.append(record)
        return StepRun(result=result, record=record)

    def kinds(self) -> list[str]:
        return [r.kind for r in self.requests]


@dataclass
class FileValidator:
    """One check: passes when ``m1.txt`` says ``good``."""

    runs: int = 0

    async def __call__(self, ctx: StepContext, log_dir: Path) -> Sequence[CheckRecord]:
        self.runs += 1
        f = ctx.repo_root / "m1.txt"
        text = f.read_text(encoding="utf-8") if f.exists() else ""
        passed = text.strip() == "good"
        return [
            CheckRecord(
                check_id="1.1",
                command="grep -qx good m1.txt",
                exit_code=0 if passed else 1,
                passed=passed,
                ended="exited",
                duration_s=0.0,
                output_tail="" if passed else f"m1.txt says {text.strip()!r}",
            )
        ]


def _approve() -> Turn:
    return Turn(answer=review_answer("approve"))


def _changes(*findings: str) -> Turn:
    return Turn(answer=review_answer("changes_requested", findings=findings or ("fix it",)))


@dataclass
class Harness:
    ctx: StepContext
    agent: FakeAgent
    validator: FileValidator
    saves: list[str | None]

    async def run(self) -> LoopResult:
        return await run_milestone(self.ctx)


@pytest.fixture
def harness(git_repo: Path, tmp_path: Path) -> Callable[..., Harness]:
    text = plan_text(1)
    plan_path = git_repo / PLAN_REL
    plan_path.parent.mkdir(parents=True)
    plan_path.write_text(text, encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "plan")
    plan = parse_plan(text, plan_path)
    milestone = plan.milestones[0]

    def make(
        turns: dict[str, list[Turn]],
        *,
        max_attempts: int = 3,
        review_gate: bool = True,
        phase: Phase | None = "started",
        budget: Callable[[], str | None] = lambda: None,
    ) -> Harness:
        repo = Repo.open(git_repo)
        ms = MilestoneState(id=milestone.id, title=milestone.title, status="running")
        ms.checkpoint = repo.head()
        ms.phase = phase
        state = RunState(run_id="r", plan_path=PLAN_REL, milestones=[ms])
        agent = FakeAgent(turns)
        validator = FileValidator()
        saves: list[str | None] = []
        ctx = StepContext(
            repo=repo,
            run_dir=tmp_path / "run",
            plan_rel=PLAN_REL,
            keeper=PlanKeeper(plan_path, text),
            milestone=milestone,
            checks=list(milestone.checks),
            settings=Settings.model_validate({"loop": {"max_attempts": max_attempts}}),
            review_gate=review_gate,
            state=state,
            ms=ms,
            save=lambda: saves.append(ms.phase),
            budget_reason=budget,
            agent=agent,
            validator=validator,
        )
        return Harness(ctx, agent, validator, saves)

    return make


@pytest.mark.asyncio
async def test_passing_checks_and_an_approving_review_approve(
    harness: Callable[..., Harness],
) -> None:
    h = harness({"implement": [Turn(writes={"m1.txt": "good\n"})], "review": [_approve()]})
    assert await h.run() == LoopResult("approved")
    assert h.agent.kinds() == ["implement", "review"]
    assert h.agent.requests[1].sandbox == "read-only"
    assert h.ctx.ms.attempts == 0
    assert h.ctx.ms.fingerprints == []
    assert h.saves == ["implemented", "validated", "approved"]


@pytest.mark.asyncio
async def test_without_the_review_gate_passing_checks_approve_alone(
    harness: Callable[..., Harness],
) -> None:
    h = harness({"implement": [Turn(writes={"m1.txt": "good\n"})]}, review_gate=False)
    assert await h.run() == LoopResult("approved")
    assert h.agent.kinds() == ["implement"]


@pytest.mark.asyncio
async def test_a_failure_is_reviewed_then_repaired_in_the_same_thread(
    harness: Callable[..., Harness],
) -> None:
    h = harness(
        {
            "implement": [Turn(writes={"m1.txt": "bad\n"})],
            "review": [_changes("m1.txt must say good"), _approve()],
            "repair": [Turn(writes={"m1.txt": "good\n"})],
        }
    )
    assert await h.run() == LoopResult("approved")
    assert h.agent.kinds() == ["implement", "review", "repair", "review"]
    repair = h.agent.requests[2]
    assert repair.resume_thread == "thread-1"
    assert "m1.txt must say good" in repair.prompt
    assert "m1.txt says 'bad'" in repair.prompt  # the failing check's output
    assert h.ctx.ms.attempts == 1
    assert len(h.ctx.ms.fingerprints) == 1
    assert h.ctx.ms.findings == []


@pytest.mark.asyncio
async def test_an_unchanged_delta_after_a_repair_gives_up(
    harness: Callable[..., Harness],
) -> None:
    same = Turn(writes={"m1.txt": "bad\n"})
    h = harness({"implement": [same], "review": [_changes("no")], "repair": [same]})
    result = await h.run()
    assert result.kind == "gave_up"
    assert result.reason.startswith("stalled")
    assert h.agent.kinds() == ["implement", "review", "repair", "review"]
    fps = h.ctx.ms.fingerprints
    assert len(fps) == 2
    assert fps[0] == fps[1]


@pytest.mark.asyncio
async def test_max_attempts_counts_repairs(harness: Callable[..., Harness]) -> None:
    tries = [Turn(writes={"m1.txt": f"bad {n}\n"}) for n in range(5)]
    h = harness(
        {"implement": tries[:1], "review": [_changes("no")], "repair": tries[1:]},
        max_attempts=2,
    )
    result = await h.run()
    assert result == LoopResult(
        "gave_up", "max attempts: 2 repairs used and the milestone still fails"
    )
    assert h.agent.kinds().count("repair") == 2
    assert h.ctx.ms.attempts == 2
    assert len(set(h.ctx.ms.fingerprints)) == 3  # every delta differed


@pytest.mark.asyncio
async def test_the_reviewer_can_ask_for_a_human(harness: Callable[..., Harness]) -> None:
    ask = Turn(answer=review_answer("needs_human", question="Which licence?"))
    h = harness({"implement": [Turn(writes={"m1.txt": "good\n"})], "review": [ask]})
    result = await h.run()
    assert result.kind == "needs_human"
    assert result.question == "Which licence?"


@pytest.mark.asyncio
async def test_the_agent_can_ask_for_a_human(harness: Callable[..., Harness]) -> None:
    answer = {**step_answer("stuck"), "status": "needs_human", "question": "Which API?"}
    h = harness({"implement": [Turn(answer=answer)]})
    result = await h.run()
    assert result == LoopResult("needs_human", "the agent asked for a human", "Which API?")
    assert h.validator.runs == 0


@pytest.mark.asyncio
async def test_a_transient_failure_stops_without_counting_an_attempt(
    harness: Callable[..., Harness],
) -> None:
    down = Turn(outcome=Outcome.TRANSIENT, error="503 Service Unavailable")
    h = harness({"implement": [down]})
    result = await h.run()
    assert result.kind == "unavailable"
    assert "503" in result.reason
    assert h.ctx.ms.attempts == 0
    assert h.ctx.ms.phase == "started"  # resume runs the same step again


@pytest.mark.asyncio
async def test_an_unusable_review_twice_becomes_a_finding(
    harness: Callable[..., Harness],
) -> None:
    garbage = Turn(answer={"verdict": "maybe"})
    h = harness(
        {
            "implement": [Turn(writes={"m1.txt": "good\n"})],
            "review": [garbage, garbage, _approve()],
            "repair": [Turn(writes={"m1.txt": "good\n", "notes.txt": "looked again\n"})],
        }
    )
    assert await h.run() == LoopResult("approved")
    assert h.agent.kinds() == ["implement", "review", "review", "repair", "review"]
    assert "the review gave no usable verdict" in h.agent.requests[3].prompt


@pytest.mark.asyncio
async def test_a_resumed_milestone_continues_from_its_saved_phase(
    harness: Callable[..., Harness], git_repo: Path
) -> None:
    (git_repo / "m1.txt").write_text("good\n", encoding="utf-8")
    h = harness({"review": [_approve()]}, phase="implemented")
    assert await h.run() == LoopResult("approved")
    assert h.agent.kinds() == ["review"]
    assert h.validator.runs == 1


@pytest.mark.asyncio
async def test_an_exhausted_budget_stops_before_any_step(
    harness: Callable[..., Harness],
) -> None:
    h = harness({"implement": [Turn()]}, budget=lambda: "max-wall 1m reached")
    assert await h.run() == LoopResult("budget", "max-wall 1m reached")
    assert h.agent.requests == []
