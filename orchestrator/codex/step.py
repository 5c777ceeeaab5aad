"""One codex exec step: the request that goes in and the result that comes out."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.codex import Outcome
from orchestrator.settings.model import Sandbox

__all__ = ["CommandRun", "Outcome", "StepRequest", "StepResult", "Usage"]


class StepRequest(BaseModel):
    """Everything needed to start one `codex exec` invocation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str
    cwd: Path
    sandbox: Sandbox = "workspace-write"
    resume_thread: str | None = Field(None, description="continue this thread (exec resume)")
    output_schema: Path | None = Field(None, description="JSON schema file for the final answer")
    transcript: Path = Field(description="file receiving the raw stdout/stderr stream")
    last_message: Path | None = Field(None, description="-o file; deleted before the run")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables")
    label: str = Field("step", description="for logs: e.g. 'implement m2 a1'")


class Usage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


class CommandRun(BaseModel):
    command: str
    exit_code: int | None
    status: str


class StepResult(BaseModel):
    """The typed outcome of one step, whatever the child did."""

    outcome: Outcome
    exit_code: int | None = Field(description="codex's exit code; None if killed or never started")
    thread_id: str | None = None
    final_message: str | None = Field(
        None, description="last agent_message of a completed turn (the answer, if a schema)"
    )
    usage: Usage = Field(default_factory=Usage, description="cumulative for the thread")
    commands: list[CommandRun] = Field(default_factory=list)
    error: str | None = Field(None, description="turn.failed message, stderr tail, or reason")
    started_at: float = Field(description="unix time")
    duration_s: float
    pid: int | None = None
    transcript: Path
    retries: int = Field(0, description="transient retries this step needed")
    resets_at: float | None = Field(
        None, description="USAGE_LIMIT: when the limit resets (unix time), if codex said"
    )
