"""What ``orchestrator adopt`` proposes: derived checks and refused commands, with reasons."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DerivedCheck(_Model):
    command: str = Field(description="the shell command, continuations joined, prompt stripped")
    line: int = Field(description="line of the plan the command was read from (1-based)")
    origin: str = Field(description="how the plan wrote it: code block, prompt line, inline code")
    milestone: str | None = Field(description="milestone id, or None for a plan-level check")
    expect: list[str] = Field(default_factory=list, description="text the output must contain")
    why: str = Field(description="why it counts as a check")
    suggestion: bool = Field(False, description="proposed from the project files, not the plan")
    model_proposed: bool = Field(False, description="proposed by a read-only codex step")
    carried_from: str | None = Field(
        None, description="milestone whose check this is, when carried to one that has none"
    )


class Refusal(_Model):
    command: str = Field(description="the command (or statement) as read")
    line: int
    origin: str
    milestone: str | None
    category: str = Field(description="server, deploy, destructive, external, interactive, ...")
    reason: str


class Proposal(_Model):
    path: Path
    milestones: list[str] = Field(description="milestone ids in plan order")
    checks: list[DerivedCheck]
    refused: list[Refusal]
    existing_checks: int = Field(description="checks the plan already declares")
    existing_plan_checks: int = Field(0, description="plan-level checks the plan declares")
    covered: list[str] = Field(
        default_factory=list, description="milestones that already declare checks"
    )
    notes: list[str] = Field(default_factory=list)

    def for_milestone(self, milestone_id: str | None) -> list[DerivedCheck]:
        return [c for c in self.checks if c.milestone == milestone_id]
