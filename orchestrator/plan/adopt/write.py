"""Inserting derived checks into a plan as ``validate`` blocks, changing no existing byte.

Each milestone's checks go after the last line of its text; plan-level ones at
the end of the plan-wide Validation and Acceptance section, which is created
(at the plan's section level, before Idempotence / Artifacts / Interfaces or at
the end) when the plan has none. New lines use the file's own newline; a BOM
and every other byte stay. After inserting, the plan is parsed again: a group
that would land anywhere but where it belongs is left out and reported.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.plan.adopt.proposal import DerivedCheck, Proposal
from orchestrator.plan.document import outline, parse_plan
from orchestrator.plan.model import ExecPlan, SectionKind, Span
from orchestrator.plan.text import line_body, newline_of, split_lines

HEADER = "# derived by `orchestrator adopt` from this plan's own text: review before committing"
_AFTER_VALIDATION = (SectionKind.IDEMPOTENCE, SectionKind.ARTIFACTS, SectionKind.INTERFACES)


def block_lines(checks: list[DerivedCheck]) -> list[str]:
    """The lines of one ``validate`` block (without newlines)."""
    out = ["```sh validate", HEADER]
    for c in checks:
        if c.suggestion:
            out.append(f"# suggested, not from the plan: {c.why}")
        elif c.model_proposed:
            out.append(f"# {c.why.split(' (', 1)[0]} [not from the plan: review it]")
        elif c.carried_from is not None:
            out.append(
                f"# carried from milestone {c.carried_from} (line {c.line}): none of its own"
            )
        else:
            out.append(f"# from line {c.line} ({c.origin})")
        out.append(c.command)
        out.extend(f"# expect: {e}" for e in c.expect)
    out.append("```")
    return out


def _last_text_line(lines: list[str], span: Span) -> int:
    for n in range(span.end, span.start - 1, -1):
        if line_body(lines[n - 1]).strip():
            return n
    return span.start


def _single(plan: ExecPlan) -> bool:
    """The plan has no milestone headings: it runs as one synthetic milestone."""
    return any("none found" in n for n in plan.recognised)


def _validation_span(plan: ExecPlan) -> Span | None:
    """The plan-wide Validation section (not one inside a milestone)."""
    spans = [] if _single(plan) else [m.span for m in plan.milestones]
    for s in plan.sections:
        if s.kind is SectionKind.VALIDATION and not any(
            sp.start <= s.span.start <= sp.end for sp in spans
        ):
            return s.span
    return None


def _new_section_line(text: str, plan: ExecPlan) -> tuple[int, int]:
    """(insert after this line, heading level) for a new Validation section."""
    _, level, sections = outline(text)
    for s in sections:
        if s.kind in _AFTER_VALIDATION and s.level == level and s.span.start > 1:
            return s.span.start - 1, level
    return len(split_lines(text)), level


def _insert(lines: list[str], after: int, new: list[str], nl: str) -> None:
    """Insert ``new`` lines after line ``after`` (1-based), blank-separated from neighbours."""
    if after >= 1 and not lines[after - 1].endswith(("\n", "\r")):
        lines[after - 1] += nl
    if after >= 1 and lines[after - 1].endswith("\r") and nl == "\n":
        nl = "\r"  # a "\n" right after a bare "\r" would join it into one "\r\n" ending
    block = [*new]
    if after >= 1 and line_body(lines[after - 1]).strip():
        block.insert(0, "")
    if after < len(lines) and line_body(lines[after]).strip():
        block.append("")
    lines[after:after] = [x + nl for x in block]


def _placed(text: str, path: Path, proposal: Proposal, key: str | None) -> bool:
    plan = parse_plan(text, path)
    if [m.id for m in plan.milestones] != proposal.milestones:
        return False
    wanted = [(c.command, [f"expect: {e}" for e in c.expect]) for c in proposal.for_milestone(key)]
    have = plan.checks if key is None else plan.milestone(key).checks
    if key is None and _single(plan):
        have = [*plan.checks, *plan.milestones[0].checks]
    got = [(c.command, c.expect) for c in have]
    return all(w in got for w in wanted)


def _with_group(text: str, path: Path, key: str | None, checks: list[DerivedCheck]) -> str:
    plan = parse_plan(text, path)
    lines = split_lines(text)
    nl = newline_of(text)
    block = block_lines(checks)
    if key is not None:
        _insert(lines, _last_text_line(lines, plan.milestone(key).span), block, nl)
        return "".join(lines)
    span = _validation_span(plan)
    if span is not None:
        _insert(lines, _last_text_line(lines, span), block, nl)
        return "".join(lines)
    after, level = _new_section_line(text, plan)
    heading = f"{'#' * level} Validation and Acceptance"
    _insert(lines, after, [heading, "", *block], nl)
    return "".join(lines)


def insert_checks(text: str, path: Path, proposal: Proposal) -> tuple[str, list[str]]:
    """The plan text with the proposal's checks inserted, and notes on groups left out."""
    notes: list[str] = []
    keys: list[str | None] = [m for m in proposal.milestones if proposal.for_milestone(m)]
    if proposal.for_milestone(None):
        keys.append(None)
    for key in reversed(keys):
        candidate = _with_group(text, path, key, proposal.for_milestone(key))
        if _placed(candidate, path, proposal, key):
            text = candidate
        else:
            where = "plan-level" if key is None else f"milestone {key}"
            notes.append(
                f"{where}: the checks could not be inserted without changing how the plan "
                "reads; add them by hand from the proposal"
            )
    return text, notes


def only_insertions(old: str, new: str) -> bool:
    """Whether ``new`` is ``old`` with whole lines inserted, byte for byte.

    The one allowed change: a last line without a newline may gain one.
    """
    old_lines = split_lines(old)
    it = iter(split_lines(new))
    for i, line in enumerate(old_lines):
        last_open = i == len(old_lines) - 1 and line == line_body(line)
        if not any(y == line or (last_open and line_body(y) == line) for y in it):
            return False
    return new.startswith(old[:1])
