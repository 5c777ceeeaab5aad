"""Derive a plan's checks from its own text (pure: reads text, runs nothing)."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.plan import validate_blocks as _vb
from orchestrator.plan.adopt import expected, sources
from orchestrator.plan.adopt.attribute import owner
from orchestrator.plan.adopt.proposal import DerivedCheck, Proposal, Refusal
from orchestrator.plan.adopt.safety import adoptable, judge_line, program_reason
from orchestrator.plan.adopt.verdict import Kind, Verdict
from orchestrator.plan.blocks import Blocks, Fence, scan
from orchestrator.plan.document import parse_plan
from orchestrator.plan.model import ExecPlan, SectionKind
from orchestrator.plan.text import line_body

_SKIPPED = {SectionKind.SURPRISES, SectionKind.DECISIONS, SectionKind.OUTCOMES}
_SILENT = {Kind.NEUTRAL}
_MANUAL = re.compile(
    r"\b(?:open|visit|navigate|click|browser|manually|by hand|in the ui|on screen|screenshot"
    r"|observe|look at|tap|drag|hover)\b|打开|浏览器|開く|ブラウザ|브라우저",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(?P<text>.+)$")
_SERVES = re.compile(
    r"listening|serving|running on|started server|server started|press ctrl|watching|ready on",
    re.IGNORECASE,
)
_CMD_C = re.compile(r"^cmd(?:\.exe)?\s+/[cC]\s+")
_SERVICE = re.compile(r"(?:^|\s)service(?:$|\s)", re.IGNORECASE)


def _skipped_lines(plan: ExecPlan) -> set[int]:
    out: set[int] = set()
    for s in plan.sections:
        if s.kind in _SKIPPED:
            out.update(range(s.span.start, s.span.end + 1))
    return out


def _lang(info: str) -> str:
    return info.split()[0].strip("{}.").casefold() if info.split() else ""


def _output_owner(block: list[sources.Found]) -> sources.Found | None:
    """The command an output block after ``block`` shows: its last, if it is its only check."""
    checkish = [f for f in block if judge_line(f.command).kind in (Kind.CHECK, Kind.PROGRAM)]
    return block[-1] if checkish == block[-1:] and block else None


def _found_all(blocks: Blocks, skip: set[int]) -> list[sources.Found]:
    """Every command the text holds, in line order, with its expected output."""
    items: list[tuple[int, str, object]] = [(f.start, "fence", f) for f in blocks.fences]
    items += [(start, "indented", (start, end)) for start, end in blocks.indented]
    items += [(n, "prose", n) for n in range(1, blocks.last_line + 1) if n not in blocks.code_lines]
    items.sort(key=lambda x: x[0])
    found: list[sources.Found] = []
    last_block: list[sources.Found] = []
    for start, kind, data in items:
        if start in skip:
            continue
        if kind == "prose":
            assert isinstance(data, int)
            prompt = sources.prompt_line(blocks, data)
            new = [prompt] if prompt else list(sources.inline_commands(blocks, data))
            last_block = new or last_block
            found.extend(new)
            continue
        if kind == "fence":
            assert isinstance(data, Fence)
            fence = data
            if _vb.is_validate_block(fence) or _SERVICE.search(fence.info):
                continue
            lang = _lang(fence.info)
            lines = sources.fence_lines(fence)
            label = f"{lang} block" if lang else "fenced block"
            strict = lang not in sources.SHELL_LANGS
            if lang not in sources.SHELL_LANGS and lang not in sources.PLAIN_LANGS:
                continue
        else:
            assert isinstance(data, tuple)
            lines = sources.indented_lines(blocks, data[0], data[1])
            label, strict = "indented block", True
        if sources.output_cue_before(blocks, start):
            target = _output_owner(last_block)
            if target is not None and not target.expect:
                target.expect = expected.from_output("\n".join(x for _, x in lines))
            continue
        new = sources.block_commands(lines, label, strict)
        last_block = new
        found.extend(new)
    return found


def _manual(plan: ExecPlan, blocks: Blocks, single: bool) -> list[Refusal]:
    lines: set[int] = set()
    for s in plan.sections:
        if s.kind is SectionKind.VALIDATION:
            lines.update(range(s.span.start + 1, s.span.end + 1))
    out: list[Refusal] = []
    for n in sorted(lines):
        if n in blocks.code_lines:
            continue
        m = _ITEM.match(line_body(blocks.lines[n - 1]))
        if m and "`" not in m.group("text") and _MANUAL.search(m.group("text")):
            out.append(
                Refusal(
                    command=m.group("text").strip()[:160],
                    line=n,
                    origin="acceptance statement",
                    milestone=owner(plan, blocks, n, single),
                    category=Kind.MANUAL.value,
                    reason="a behaviour a person checks by looking; no command proves it",
                )
            )
    return out


_COUNTED = re.compile(r"[1-9]")


def _final_why(expect: list[str]) -> str:
    counted = next((e for e in expect if _COUNTED.search(e)), None)
    what = f"its stated output `{counted}`" if counted else "a named part of the project"
    return (
        f"; it names no milestone, and {what} describes the finished plan: it checks the"
        " last milestone rather than every one"
    )


def _end_state(command: str, expect: list[str]) -> bool:
    """Whether a command outside every milestone describes the plan's end state.

    Only a run of the whole suite or tree (``pytest -q``, ``ruff check .``, ``python
    manage.py check``), with at most a count-free output (``All checks passed!``,
    ``0 failed``), must hold after every milestone; a named file, a filter or a counted
    output (``grep -q Shouting README.md``, ``4 passed``, ``tally 0.3.0``) holds once the
    plan's work is all done, and checked after milestone 1 it would ask for later work.
    """
    from orchestrator.plan.adopt.coverage import suite_wide

    return any(_COUNTED.search(e) for e in expect) or not suite_wide(command)


def derive(text: str, path: Path) -> Proposal:
    """The checks adopt proposes for a plan's text, and what it refused."""
    plan = parse_plan(text, path)
    blocks = scan(text)
    single = any("none found" in n for n in plan.recognised)
    existing = {c.command for m in plan.milestones for c in m.checks} | {
        c.command for c in plan.checks
    }
    checks: list[DerivedCheck] = []
    refused: list[Refusal] = []
    seen: set[tuple[str | None, str]] = set()
    refused_seen: set[str] = set()
    for f in _found_all(blocks, _skipped_lines(plan)):
        f.command = _CMD_C.sub("", f.command)
        verdict = judge_line(f.command)
        if verdict.kind is Kind.PROGRAM and any(_SERVES.search(e) for e in f.expect):
            verdict = Verdict(Kind.SERVER, "its stated output says it serves or keeps running")
        ms = owner(plan, blocks, f.line, single)
        final = ms is None and not single and _end_state(f.command, f.expect) and plan.milestones
        if final:
            ms = plan.milestones[-1].id
        if adoptable(verdict, bool(f.expect)):
            key = (ms, " ".join(f.command.split()))
            if key in seen or f.command in existing:
                continue
            seen.add(key)
            why = verdict if verdict.kind is Kind.CHECK else program_reason(verdict)
            checks.append(
                DerivedCheck(
                    command=f.command,
                    line=f.line,
                    origin=f.origin,
                    milestone=ms,
                    expect=f.expect,
                    why=why.reason + (_final_why(f.expect) if final else ""),
                )
            )
        elif verdict.kind not in _SILENT and f.command not in refused_seen:
            refused_seen.add(f.command)
            reason = verdict.reason
            if verdict.kind is Kind.PROGRAM:
                reason += (
                    "; the plan states no output to assert, so adopt cannot tell it is a check"
                )
            refused.append(
                Refusal(
                    command=f.command,
                    line=f.line,
                    origin=f.origin,
                    milestone=ms,
                    category=(Kind.UNKNOWN if verdict.kind is Kind.PROGRAM else verdict.kind).value,
                    reason=reason,
                )
            )
    refused.extend(_manual(plan, blocks, single))
    from orchestrator.plan.adopt.coverage import complete

    plan_level = {" ".join(c.command.split()) for c in checks if c.milestone is None}
    checks = [
        c
        for c in checks
        if c.milestone is None or c.expect or " ".join(c.command.split()) not in plan_level
    ]
    checks, notes = complete(plan, checks, single)
    return Proposal(
        path=path,
        milestones=[m.id for m in plan.milestones],
        checks=checks,
        refused=sorted(refused, key=lambda r: r.line),
        existing_checks=len(existing),
        existing_plan_checks=len(plan.checks),
        covered=[m.id for m in plan.milestones if m.checks],
        notes=notes,
    )
