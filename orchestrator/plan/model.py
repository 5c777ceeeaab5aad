"""Pydantic models of a parsed ExecPlan. Line numbers are 1-based.

A span covers whole lines: ``start`` is the first line (a section's heading),
``end`` the last line, inclusive.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.plan.sections import SectionKind as SectionKind


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Span(_Model):
    start: int = Field(description="first line, 1-based")
    end: int = Field(description="last line, 1-based, inclusive")


class Section(_Model):
    kind: SectionKind | None = Field(description="canonical section, or None if unrecognised")
    heading: str = Field(description="heading text as written, without the #'s")
    level: int = Field(description="heading level, 1-6")
    span: Span


class Check(_Model):
    id: str = Field(description="stable id: '<milestone id>.<n>' or 'plan.<n>'")
    command: str = Field(description="one shell command line")
    line: int = Field(description="line of the command in the plan")
    milestone: str | None = Field(description="milestone id, or None for a plan-level check")
    expect: list[str] = Field(
        default_factory=list,
        description="what the output must hold: 'expect: TEXT' or 'expect-re: REGEX' each",
    )


class Service(_Model):
    id: str = Field(description="stable id: '<milestone id>.service.<n>' or 'plan.service.<n>'")
    command: str = Field(description="the shell command that starts the service")
    line: int = Field(description="line of the service block in the plan")
    milestone: str | None = Field(description="milestone id, or None for every milestone")
    ready: str = Field(description="'port N', 'url http://127.0.0.1:N/...' or 'log TEXT'")
    timeout: float = Field(60.0, description="seconds to wait for readiness")


class Milestone(_Model):
    id: str = Field(description="label used in trailers and state: '1', '0', 'M2', ...")
    number: int | None = Field(description="numeric part when there is one")
    title: str
    heading: str = Field(description="heading text as written")
    span: Span
    body: str = Field(description="the milestone's text below its heading")
    checks: list[Check] = Field(default_factory=list)
    services: list[Service] = Field(
        default_factory=list, description="services started for this milestone's checks"
    )


class ProgressItem(_Model):
    line: int
    checked: bool
    timestamp: str | None = Field(description="timestamp as written, if any")
    text: str = Field(description="item text without checkbox and timestamp")


class ExecPlan(_Model):
    path: Path
    title: str
    sections: list[Section]
    milestones: list[Milestone]
    checks: list[Check] = Field(description="plan-level checks (Validation and Acceptance)")
    services: list[Service] = Field(
        default_factory=list, description="services started for every milestone's checks"
    )
    progress: list[ProgressItem]
    recognised: list[str] = Field(
        default_factory=list,
        description="notes on what was recognised, e.g. 'milestones from Phase headings'",
    )

    def section(self, kind: SectionKind) -> Section | None:
        return next((s for s in self.sections if s.kind is kind), None)

    def milestone(self, milestone_id: str) -> Milestone:
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        raise KeyError(milestone_id)

    def checks_for(self, milestone_id: str) -> list[Check]:
        """The milestone's own checks followed by the plan-level checks."""
        return [*self.milestone(milestone_id).checks, *self.checks]
