"""``orchestrator check PLAN``: every problem as ``PATH:LINE: message``, then a summary.

Errors make a plan unrunnable (exit 2): a milestone that nothing can prove
done (no check of its own and no plan-level check), duplicate milestone ids,
an empty Purpose. Warnings do not: a missing section (living sections are
created by the run), no milestone headings (the plan runs as one milestone),
an empty ``validate`` block.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.errors import ExitCode
from orchestrator.plan import service_blocks as _services
from orchestrator.plan import validate_blocks as _checks
from orchestrator.plan.blocks import scan
from orchestrator.plan.document import load_plan
from orchestrator.plan.model import ExecPlan, Milestone, SectionKind
from orchestrator.plan.sections import CANONICAL_HEADING, LIVING, MANDATORY
from orchestrator.plan.text import line_body, split_lines
from orchestrator.ui import console


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Problem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line: int = Field(description="1-based line the problem is about")
    severity: Severity
    message: str


class LintReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path
    plan: ExecPlan
    problems: list[Problem]
    summary: str = Field(description="one line: milestones, checks, what was recognised")
    hint: str | None = Field(
        None, description="how `orchestrator adopt` could make an unrunnable plan runnable"
    )

    @property
    def runnable(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


_EXAMPLE = (
    "Declare its checks in a fenced code block whose info string contains the word "
    "`validate`, placed inside the milestone (anywhere below its heading, before the next "
    "milestone), one shell command per line, for example:\n"
    "    ```sh validate\n"
    "    python -m pytest -q tests/\n"
    "    ```\n"
    "  A `validate` block under `## Validation and Acceptance` applies to every milestone."
)


def _unmarked_commands(text: str, start: int, end: int) -> int | None:
    """First line of an unmarked code block within lines start..end that holds commands."""
    blocks = scan(text)
    for fence in blocks.fences:
        inside = start < fence.start <= end
        if (
            inside
            and not _checks.is_validate_block(fence)
            and any(_checks.looks_like_command(x) for x in fence.content.splitlines())
        ):
            return fence.start
    for first, last in blocks.indented:
        if start < first <= end:
            lines = [line_body(x) for x in split_lines(text)[first - 1 : last]]
            if any(_checks.looks_like_command(x) for x in lines):
                return first
    return None


_PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")


def _placeholders(plan: ExecPlan) -> list[Problem]:
    """Checks still holding the template's ``<a command that ...>`` text."""
    checks = [*plan.checks, *(c for m in plan.milestones for c in m.checks)]
    return [
        Problem(
            line=c.line,
            severity=Severity.ERROR,
            message=(
                f"check {c.id} is a placeholder from the template ({c.command.strip()}): "
                "replace it with a command that exits 0 only when the work is done"
            ),
        )
        for c in checks
        if _PLACEHOLDER.match(c.command)
    ]


def _problems(text: str, plan: ExecPlan, config_checks: Sequence[str] = ()) -> list[Problem]:
    out: list[Problem] = _placeholders(plan)
    first = plan.sections[0].span.start if plan.sections else 1
    for kind in MANDATORY:
        if plan.section(kind) is None:
            how = (
                "the run creates it when it first writes there"
                if kind in LIVING
                else "add it so the agent has the whole picture"
            )
            out.append(
                Problem(
                    line=first,
                    severity=Severity.WARNING,
                    message=f"missing section `## {CANONICAL_HEADING[kind]}` ({how})",
                )
            )
    purpose = plan.section(SectionKind.PURPOSE)
    if purpose is not None and purpose.span.end == purpose.span.start:
        out.append(Problem(line=purpose.span.start, severity=Severity.ERROR, message=_EMPTY))
    elif purpose is not None:
        body = split_lines(text)[purpose.span.start : purpose.span.end]
        if not any(line_body(x).strip() for x in body):
            out.append(Problem(line=purpose.span.start, severity=Severity.ERROR, message=_EMPTY))
    synthetic = any("none found" in n for n in plan.recognised)
    if synthetic:
        out.append(
            Problem(
                line=plan.milestones[0].span.start,
                severity=Severity.WARNING,
                message=(
                    "no milestone headings found: the whole plan runs as ONE milestone "
                    f"({plan.title!r}); to split it, add `### Milestone 1: Title` headings "
                    "under `## Plan of Work`"
                ),
            )
        )
    counts = Counter(m.id for m in plan.milestones)
    seen: set[str] = set()
    for m in plan.milestones:
        if counts[m.id] > 1 and m.id in seen:
            out.append(
                Problem(
                    line=m.span.start,
                    severity=Severity.ERROR,
                    message=f"duplicate milestone id {m.id!r} ({m.heading!r}); "
                    "give every milestone its own number or id",
                )
            )
        seen.add(m.id)
        if not m.checks and not plan.checks and not config_checks:
            out.append(_no_checks(text, plan, m, synthetic))
    blocks = scan(text)
    out.extend(
        Problem(line=fence.start, severity=Severity.ERROR, message=f"service block: {problem}")
        for fence in blocks.fences
        if _services.is_service_block(fence)
        for problem in _services.declaration(fence).problems
    )
    out.extend(
        Problem(
            line=fence.start,
            severity=Severity.WARNING,
            message="this `validate` block holds no command",
        )
        for fence in blocks.fences
        if _checks.is_validate_block(fence) and not _checks.commands(fence)
    )
    return sorted(out, key=lambda p: p.line)


def _no_checks(text: str, plan: ExecPlan, m: Milestone, synthetic: bool) -> Problem:
    start, end = (0, len(split_lines(text))) if synthetic else (m.span.start, m.span.end)
    hint = _unmarked_commands(text, start, end)
    where = (
        f" (the code block at line {hint} looks like commands: if they prove the work, "
        "make it a fenced block with `validate` in its info string)"
        if hint
        else ""
    )
    if synthetic:
        what = "the plan declares no validation command, so nothing can prove it done"
        example = _EXAMPLE_PLAN
    else:
        what = (
            f"milestone {m.id} ({m.title!r}) has no validation command and the plan has "
            "no plan-level one, so nothing can prove it done"
        )
        example = _EXAMPLE
    return Problem(line=m.span.start, severity=Severity.ERROR, message=f"{what}{where}. {example}")


_EXAMPLE_PLAN = (
    "Declare checks in a fenced code block whose info string contains the word `validate`, "
    "under `## Validation and Acceptance` (they then prove every milestone), one shell "
    "command per line, for example:\n"
    "    ```sh validate\n"
    "    python -m pytest -q tests/\n"
    "    ```"
)
_EMPTY = "the Purpose section is empty: say in a few sentences what the user gains from this work"


def lint_plan(path: Path, config_checks: Sequence[str] = ()) -> LintReport:
    """Read, parse and lint a plan; raises PlanError when it cannot be read or parsed.

    ``config_checks`` are the plan-level checks of the config (``checks.commands``): a run
    applies them to every milestone, so they count as checks here too.
    """
    text, plan = load_plan(path)
    problems = sorted(_problems(text, plan, config_checks), key=lambda p: p.line)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    n_checks = sum(len(m.checks) for m in plan.milestones) + len(plan.checks) + len(config_checks)
    ids = ", ".join(m.id for m in plan.milestones)
    verdict = "runnable" if errors == 0 else "NOT runnable"
    recognised = "; ".join(n for n in plan.recognised if not n.startswith("sections"))
    summary = (
        f"{path}: {verdict}: {len(plan.milestones)} milestones ({ids}), {n_checks} checks "
        f"({len(plan.checks)} plan-level, {len(config_checks)} from the config), {errors} errors, "
        f"{warnings} warnings; {recognised}"
    )
    hint = _adopt_hint(text, plan, path) if errors and n_checks == 0 else None
    return LintReport(path=path, plan=plan, problems=problems, summary=summary, hint=hint)


def _adopt_hint(text: str, plan: ExecPlan, path: Path) -> str | None:
    """The adopt command and what it would derive, for a plan with commands but no checks."""
    from orchestrator.plan.adopt.derive import derive

    proposal = derive(text, path)
    if not proposal.checks:
        return None
    n = len(proposal.checks)
    refused = len(proposal.refused)
    return (
        f"the plan's own text holds commands: `orchestrator adopt` would derive {n} "
        f"check{'s' if n != 1 else ''} from them ({refused} refused as unsafe or not checks). "
        f"See them with `orchestrator adopt {path}`, insert them with "
        f"`orchestrator adopt --write {path}`, and review the diff."
    )


def check_command(path: Path, as_json: bool, config_checks: Sequence[str] = ()) -> int:
    """The ``check`` subcommand: print problems and summary (or the plan as JSON)."""
    report = lint_plan(path, config_checks)
    if as_json:
        console.out(report.plan.model_dump_json(indent=2))
        for p in report.problems:
            console.err(f"{path}:{p.line}: {p.severity.value}: {p.message}")
        if report.hint:
            console.err(f"{path}: hint: {report.hint}")
    else:
        for p in report.problems:
            console.out(f"{path}:{p.line}: {p.severity.value}: {p.message}")
        if report.hint:
            console.out(f"{path}: hint: {report.hint}")
        console.out(report.summary)
    return int(ExitCode.OK if report.runnable else ExitCode.USAGE)
