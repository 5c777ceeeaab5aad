"""Milestones written as list items of a ``## Milestones`` section.

Some plans have no milestone headings and list them instead, the checkbox
being the completion state::

    ## Milestones

    - [x] C0 — Scaffold the package
    - [ ] C1 — Parse the manifest
    - **M2**: Report errors with line numbers

A top-level item that names a milestone (``Milestone 2: Title``, an id such as
``C0``/``M2``) opens one; it runs to the next such item or the end of the
section. Used only when the plan has no milestone headings; two or more items
with distinct labels are needed, as for paragraph milestones.
"""

from __future__ import annotations

import re

from orchestrator.plan.blocks import Blocks, Heading
from orchestrator.plan.milestones import (
    PARAGRAPH_LEVEL,
    Candidate,
    Container,
    match_heading,
)
from orchestrator.plan.sections import SectionKind
from orchestrator.plan.text import line_body

_ITEM = re.compile(
    r"^ {0,1}(?:[-*+]|\d+[.)])\s+(?:\[(?P<mark>[ xX✓✔])\]\s*)?"
    r"(?:[(\[]\d{4}-\d{2}-\d{2}[^)\]]*[)\]]\s*)?(?P<text>\S.*)$"
)


def list_candidates(blocks: Blocks, containers: list[Container]) -> list[Candidate]:
    """Top-level list items naming a milestone, in Milestones sections."""
    found: list[Candidate] = []
    for heading, end, kind in containers:
        if kind is not SectionKind.MILESTONES:
            continue
        for n in range(heading.line + 1, end + 1):
            if n in blocks.code_lines:
                continue
            item = _ITEM.match(line_body(blocks.lines[n - 1]))
            if item is None:
                continue
            matched = match_heading(item.group("text"))
            if matched is None or matched[1] is None or matched[0] not in ("milestone", "id"):
                continue
            word, label, title = matched
            found.append(
                Candidate(
                    heading=Heading(n, PARAGRAPH_LEVEL, item.group("text").strip()),
                    word=word,
                    label=label,
                    title=title,
                    container=heading.line,
                    container_kind=kind,
                )
            )
    return found
