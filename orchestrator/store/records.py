"""What a milestone records: its steps, check results, verification facts and review
findings (kept in the run state, :mod:`orchestrator.store.state`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.codex import Outcome
from orchestrator.process import Ended

StepKind = Literal["implement", "review", "repair", "validate"]
# A validation pass: every check passed, or not.
CheckVerdict = Literal["passed", "failed"]
# What the agent's final answer said: the work step's status or the review's verdict;
# "invalid" when it was not the JSON its schema asks for.
AnswerSaid = Literal["done", "blocked", "needs_human", "approve", "changes_requested", "invalid"]


class StateModel(BaseModel):
    """The base of every model in the run state: unknown fields refused, assignments checked."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class StepRecord(StateModel):
    """One codex step (or validation pass) of a milestone."""

    kind: StepKind
    attempt: int = Field(0, description="0 = implement, k = k-th repair")
    thread_id: str | None = Field(None, description="codex thread of the step")
    outcome: Outcome | CheckVerdict | None = Field(
        None, description="how the codex step ended, or a validation pass's verdict"
    )
    answer: AnswerSaid | None = Field(None, description="what the agent's final answer said")
    transcript: str | None = Field(None, description="transcript path, relative to the run dir")
    started_at: float | None = Field(None, description="unix time")
    ended_at: float | None = Field(None, description="unix time")
    tokens: int = Field(0, description="tokens this step used (delta, not cumulative)")
    summary: str | None = Field(None, description="the step's short summary or verdict")

    @model_validator(mode="before")
    @classmethod
    def _split_old_outcome(cls, data: Any) -> Any:
        """Earlier versions kept both in one string: ``ok/<status or verdict>`` and
        ``invalid_answer`` (an OK step whose answer was unusable)."""
        if not isinstance(data, dict) or data.get("answer") is not None:
            return data
        old = data.get("outcome")
        if old == "invalid_answer":
            return {**data, "outcome": "ok", "answer": "invalid"}
        if isinstance(old, str) and old.startswith("ok/"):
            return {**data, "outcome": "ok", "answer": old.removeprefix("ok/")}
        return data

    @property
    def label(self) -> str | None:
        """The outcome as reports and status show it: ``ok/approve``, ``invalid_answer``,
        ``transient``, ``passed``; None while the step runs."""
        if self.answer == "invalid":
            return "invalid_answer"
        if self.answer is not None:
            return f"{self.outcome}/{self.answer}"
        return None if self.outcome is None else str(self.outcome)


class CountedTests(StateModel):
    """What the tests of one check did, as the orchestrator counted them."""

    source: Literal["pytest", "unittest", "go", "cargo", "jest"] = Field(
        description="pytest (through our plugin), else read from the output"
    )
    sessions: int = Field(1, description="test runs the check made (pytest sessions)")
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    deselected: int = 0


class CheckRecord(StateModel):
    """The result of one validation command (``checks.CheckResult`` is this shape)."""

    check_id: str
    command: str
    exit_code: int | None = Field(description="None if killed or never started")
    passed: bool
    ended: Ended = Field(description="how the check's process ended")
    duration_s: float
    output_tail: str = Field("", description="bounded, redacted end of the output")
    tests: CountedTests | None = Field(None, description="tests counted, when the check ran any")
    notes: list[str] = Field(
        default_factory=list, description="why the verdict differs from the exit code"
    )


class VerifyFacts(StateModel):
    """What verification learnt about a milestone (see docs/verification.md)."""

    baseline: list[CheckRecord] | None = Field(
        None, description="the milestone's checks run on its checkpoint, before any step"
    )
    environment: dict[str, str] = Field(
        default_factory=dict, description="path -> sha256 of start-up hooks (.pth) at checkpoint"
    )
    tests_may_change: bool = Field(False, description="the plan says this milestone changes tests")
    changed_protected: list[str] = Field(
        default_factory=list, description="protected paths the candidate changed"
    )
    weakening: list[str] = Field(
        default_factory=list, description="findings of the weakening analysis"
    )
    sandboxed: bool | None = Field(None, description="whether the checks ran in the sandbox")


class Finding(StateModel):
    """One review finding: what the reviewer wants changed (also the answer schema's item)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Literal["blocker", "major", "minor"]
    path: str | None
    message: str

    def line(self, *, markdown: bool = False) -> str:
        """One line for prompts, fingerprints and (``markdown``) reports."""
        if not self.path:
            return f"[{self.severity}] {self.message}"
        where = f"`{self.path}`" if markdown else self.path
        return f"[{self.severity}] {where}: {self.message}"
