"""Parse a plan's text into the :class:`ExecPlan` model (pure; no I/O but ``load_plan``)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from orchestrator.plan import milestones as _ms
from orchestrator.plan import service_blocks as _services
from orchestrator.plan import validate_blocks as _checks
from orchestrator.plan.blocks import Blocks, Heading, scan, section_end
from orchestrator.plan.model import (
    Check,
    ExecPlan,
    Milestone,
    ProgressItem,
    Section,
    SectionKind,
    Service,
    Span,
)
from orchestrator.plan.prescan import not_a_plan
from orchestrator.plan.sections import classify, parent_heading, section_level, title_heading
from orchestrator.plan.text import BOM, line_body, read_plan_text

PROGRESS_ITEM = re.compile(
    r"^(?P<indent>\s*)(?P<bullet>[-*+]|\d+[.)])\s+\[(?P<mark>[ xX✓✔])\]"
    r"(?P<sep>\s*)(?:(?P<open>[(\[])(?P<ts>\d{4}-\d{2}-\d{2}[^)\]]*)[)\]]\s*)?(?P<text>.*)$"
)
_META = re.compile(r"^[A-Za-z][\w -]*:\s")
_TITLE_META = re.compile(r"^title:\s*(?P<title>.+?)\s*$", re.IGNORECASE)

Container = _ms.Container


def _nested_ok(blocks: Blocks, h: Heading, level: int, title: Heading | None) -> bool:
    """A heading one level below the sections, inside a wrapper that names no section."""
    if h.level != level + 1:
        return False
    parent = parent_heading(blocks, h)
    return (
        parent is not None
        and parent is not title
        and parent.level == level
        and classify(parent.text) is None
        and _ms.match_heading(parent.text) is None
    )


def _sections(blocks: Blocks, level: int, title: Heading | None) -> list[Section]:
    kinds: dict[int, SectionKind | None] = {}
    for h in blocks.headings:
        if h is not title and h.level == level and _ms.match_heading(h.text) is None:
            kinds[h.line] = classify(h.text)
    taken = set(kinds.values())
    for h in blocks.headings:
        if _nested_ok(blocks, h, level, title) and _ms.match_heading(h.text) is None:
            kind = classify(h.text)
            if kind is not None and kind not in taken:
                kinds[h.line] = kind
                taken.add(kind)
    return [
        Section(
            kind=kinds.get(h.line),
            heading=h.text,
            level=h.level,
            span=Span(start=h.line, end=section_end(blocks, h)),
        )
        for h in blocks.headings
    ]


def _body(blocks: Blocks, start: int, end: int) -> str:
    lines = [line_body(x) for x in blocks.lines[start - 1 : end]]
    return "\n".join(lines).strip("\n") + "\n" if any(x.strip() for x in lines) else ""


def _milestones(
    blocks: Blocks, level: int, containers: list[Container], title: str, notes: list[str]
) -> list[Milestone]:
    chosen, note = _ms.find(blocks, level, containers)
    if not chosen:
        pow_ = next((c for c in containers if c[2] is SectionKind.PLAN_OF_WORK), None)
        start, end = (pow_[0].line, pow_[1]) if pow_ else (1, blocks.last_line)
        notes.append("milestones: none found; the whole plan runs as one milestone (id 1)")
        return [
            Milestone(
                id="1",
                number=1,
                title=title,
                heading=title,
                span=Span(start=start, end=end),
                body=_body(blocks, start, end),
            )
        ]
    notes.append(note)
    out: list[Milestone] = []
    used: set[str] = set()
    for index, c in enumerate(chosen, start=1):
        label = c.label or str(index)
        if c.label is None and label in used:
            label = f"{index}u"
        used.add(label)
        end = section_end(blocks, c.heading)
        if index < len(chosen):
            end = min(end, chosen[index].heading.line - 1)
        paragraph = c.heading.level == _ms.PARAGRAPH_LEVEL
        out.append(
            Milestone(
                id=label,
                number=_ms.number_of(c.label) if c.label else index,
                title=c.title or c.heading.text,
                heading=c.heading.text,
                span=Span(start=c.heading.line, end=end),
                body=_body(blocks, c.heading.line + (0 if paragraph else 1), end),
            )
        )
    return out


def _fence_owner(
    blocks: Blocks,
    line: int,
    milestones: list[Milestone],
    containers: list[Container],
    single: bool,
) -> tuple[Milestone | None, bool]:
    """The milestone a block at ``line`` belongs to (None: plan-level), and whether it sits
    under the plan-wide Validation section."""
    owner = next((m for m in milestones if m.span.start < line <= m.span.end), None)
    container = _ms.container_of(containers, line)
    in_validation = container is not None and container[2] is SectionKind.VALIDATION
    if owner is None and not in_validation:
        owner = _owner_by_heading(blocks, line, milestones)
    if owner is None and single and not in_validation:
        owner = milestones[0]
    return owner, in_validation


def _assign_services(
    blocks: Blocks, milestones: list[Milestone], containers: list[Container], single: bool
) -> tuple[list[Milestone], list[Service]]:
    per: dict[int, list[Service]] = {id(m): [] for m in milestones}
    plan_level: list[Service] = []
    for fence in blocks.fences:
        if not _services.is_service_block(fence):
            continue
        decl = _services.declaration(fence)
        owner, _ = _fence_owner(blocks, fence.start, milestones, containers, single)
        target = plan_level if owner is None else per[id(owner)]
        prefix = "plan" if owner is None else owner.id
        target.append(
            Service(
                id=f"{prefix}.service.{len(target) + 1}",
                command=decl.command,
                line=decl.line,
                milestone=None if owner is None else owner.id,
                ready=decl.ready,
                timeout=decl.timeout,
            )
        )
    return [m.model_copy(update={"services": per[id(m)]}) for m in milestones], plan_level


def _assign_checks(
    blocks: Blocks,
    milestones: list[Milestone],
    containers: list[Container],
    notes: list[str],
    single: bool,
) -> tuple[list[Milestone], list[Check]]:
    per: dict[int, list[Check]] = {id(m): [] for m in milestones}
    plan_level: list[Check] = []
    for fence in blocks.fences:
        if not _checks.is_validate_block(fence):
            continue
        owner, in_validation = _fence_owner(blocks, fence.start, milestones, containers, single)
        if owner is None and not in_validation:
            notes.append(f"line {fence.start}: validate block outside any milestone: plan-level")
        for cmd in _checks.commands(fence):
            if owner is None:
                plan_level.append(
                    Check(
                        id=f"plan.{len(plan_level) + 1}",
                        command=cmd.command,
                        line=cmd.line,
                        milestone=None,
                        expect=list(cmd.expect),
                    )
                )
            else:
                lst = per[id(owner)]
                lst.append(
                    Check(
                        id=f"{owner.id}.{len(lst) + 1}",
                        command=cmd.command,
                        line=cmd.line,
                        milestone=owner.id,
                        expect=list(cmd.expect),
                    )
                )
    return [m.model_copy(update={"checks": per[id(m)]}) for m in milestones], plan_level


def _owner_by_heading(blocks: Blocks, line: int, milestones: list[Milestone]) -> Milestone | None:
    """The milestone named by the nearest heading above ``line`` (restated headings)."""
    above = [h for h in blocks.headings if h.line < line]
    if not above:
        return None
    matched = _ms.match_heading(above[-1].text)
    if matched is None or matched[1] is None:
        return None
    return next((m for m in milestones if m.id == matched[1]), None)


def outline(text: str) -> tuple[Blocks, int, list[Section]]:
    """The plan's blocks, its section level and its sections (never raises).

    The blocks are shared (see :func:`~orchestrator.plan.blocks.scan`); the list is the
    caller's own, its sections are frozen.
    """
    blocks, level, sections = _outline(text)
    return blocks, level, list(sections)


@functools.lru_cache(maxsize=8)
def _outline(text: str) -> tuple[Blocks, int, tuple[Section, ...]]:
    """Cached like ``scan``: one edit of a plan asks for the outline of the same text
    several times (the tick, the section it ensures, the item it appends)."""
    blocks = scan(text)
    level = section_level(blocks)
    return blocks, level, tuple(_sections(blocks, level, title_heading(blocks)))


def progress_items(blocks: Blocks, sections: list[Section]) -> list[ProgressItem]:
    sec = next((s for s in sections if s.kind is SectionKind.PROGRESS), None)
    if sec is None:
        return []
    items: list[ProgressItem] = []
    for n in range(sec.span.start + 1, sec.span.end + 1):
        if n in blocks.code_lines:
            continue
        m = PROGRESS_ITEM.match(line_body(blocks.lines[n - 1]))
        if m:
            items.append(
                ProgressItem(
                    line=n,
                    checked=m.group("mark") != " ",
                    timestamp=m.group("ts").strip() if m.group("ts") else None,
                    text=m.group("text").strip(),
                )
            )
    return items


def _title(blocks: Blocks, title: Heading | None, path: Path) -> str:
    if title is not None:
        return title.text
    if blocks.front_matter is not None:
        for raw in blocks.lines[: blocks.front_matter[1]]:
            m = _TITLE_META.match(line_body(raw).lstrip(BOM))
            if m:
                return m.group("title").strip("'\"")
    return blocks.headings[0].text if blocks.headings else path.stem


def parse_plan(text: str, path: Path) -> ExecPlan:
    """Parse a plan. Raises PlanError only when the text is not a plan at all."""
    blocks = scan(text)
    title_h = title_heading(blocks)
    level = section_level(blocks)
    sections = _sections(blocks, level, title_h)
    notes: list[str] = []
    if blocks.front_matter is not None:
        notes.append(f"front matter: lines 1-{blocks.front_matter[1]} skipped")
    first = blocks.headings[0].line if blocks.headings else blocks.last_line + 1
    meta = [line_body(x) for x in blocks.lines[: first - 1]]
    if blocks.front_matter is None and any(_META.match(x.lstrip(BOM)) for x in meta):
        notes.append(f"metadata: key: value lines before line {first} kept as preamble")
    containers: list[Container] = [
        (h, s.span.end, s.kind)
        for h, s in zip(blocks.headings, sections, strict=True)
        if h.level == level or (s.kind is not None and h.level == level + 1)
    ]
    title = _title(blocks, title_h, path)
    recognised = [s for s in sections if s.kind is not None]
    chosen, _ = _ms.find(blocks, level, containers)
    if not recognised and not chosen:
        raise not_a_plan(path, len(blocks.headings))
    names = ", ".join(f"{s.kind.value} ({s.heading!r})" for s in recognised if s.kind)
    notes.insert(0, f"sections at level {level}: {names}")
    milestones = _milestones(blocks, level, containers, title, notes)
    single = not chosen
    milestones, plan_checks = _assign_checks(blocks, milestones, containers, notes, single)
    milestones, plan_services = _assign_services(blocks, milestones, containers, single)
    return ExecPlan(
        path=path,
        title=title,
        sections=sections,
        milestones=milestones,
        checks=plan_checks,
        services=plan_services,
        progress=progress_items(blocks, sections),
        recognised=notes,
    )


def load_plan(path: Path) -> tuple[str, ExecPlan]:
    """Read and parse a plan file: its exact text and the parsed model."""
    text = read_plan_text(path)
    return text, parse_plan(text, path)
