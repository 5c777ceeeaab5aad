"""The block structure of a plan, from markdown-it tokens with line maps.

Only what the plan model needs: ATX headings (``#`` lines inside fenced or
indented code are code, not headings), fenced code blocks with their info
string, indented code blocks, and tables. YAML front matter is blanked out
before tokenizing so its ``---`` lines cannot turn into rules or headings.
Line numbers here are 1-based and inclusive.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.plan.text import BOM, line_body, split_lines

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_FRONT_OPEN = re.compile(r"^---\s*$")
_FRONT_CLOSE = re.compile(r"^(?:---|\.\.\.)\s*$")
_FRONT_MAX_LINES = 200


@dataclass(frozen=True)
class Heading:
    line: int
    level: int
    text: str


@dataclass(frozen=True)
class Fence:
    start: int
    end: int
    info: str
    content: str
    markup: str


@dataclass(frozen=True)
class Table:
    start: int
    end: int
    header: list[str]


@dataclass
class Blocks:
    lines: list[str]
    headings: list[Heading] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    indented: list[tuple[int, int]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    code_lines: set[int] = field(default_factory=set)
    front_matter: tuple[int, int] | None = None

    @property
    def last_line(self) -> int:
        return len(self.lines)


def _front_matter(bodies: list[str]) -> tuple[int, int] | None:
    if not bodies or not _FRONT_OPEN.match(bodies[0]):
        return None
    for i in range(1, min(len(bodies), _FRONT_MAX_LINES)):
        if _FRONT_CLOSE.match(bodies[i]):
            return (1, i + 1)
    return None


def _span(tok: Token) -> tuple[int, int]:
    assert tok.map is not None
    start, end = tok.map
    return start + 1, max(start + 1, end)


def _table_header(tokens: list[Token], start: int) -> list[str]:
    header: list[str] = []
    for tok in tokens[start:]:
        if tok.type == "thead_close":
            break
        if tok.type == "inline":
            header.append(tok.content.strip())
    return header


@functools.cache
def _markdown() -> MarkdownIt:
    """The parser, made on first use: what only looks at a plan's lines (the early exits,
    see :mod:`orchestrator.plan.prescan`) does not load markdown-it.

    Block rules only: :func:`scan` reads the block tokens (type, line map, info, markup)
    and the raw ``content`` of inline tokens, which the block rules set. The core
    ``inline`` rule (and ``text_join`` after it) only fill ``children``, which nothing
    here reads, so they are off: the same tokens, in two thirds of the time.
    """
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


@functools.lru_cache(maxsize=8)
def scan(text: str) -> Blocks:
    """Tokenize ``text`` and collect its headings, code blocks and tables.

    Cached: a run parses the same plan text several times between edits. The result
    is shared, so callers treat it as read-only.
    """
    lines = split_lines(text)
    bodies = [line_body(x) for x in lines]
    if bodies and bodies[0].startswith(BOM):
        bodies[0] = bodies[0][len(BOM) :]
    blocks = Blocks(lines=lines)
    blocks.front_matter = _front_matter(bodies)
    if blocks.front_matter is not None:
        for i in range(blocks.front_matter[1]):
            bodies[i] = ""
    tokens = _markdown().parse("\n".join(bodies))
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        if tok.type == "heading_open" and tok.markup.startswith("#"):
            inline = tokens[i + 1]
            start, _ = _span(tok)
            blocks.headings.append(Heading(start, int(tok.tag[1:]), inline.content.strip()))
        elif tok.type == "fence":
            start, end = _span(tok)
            blocks.fences.append(Fence(start, end, tok.info.strip(), tok.content, tok.markup))
            blocks.code_lines.update(range(start, end + 1))
        elif tok.type == "code_block":
            start, end = _span(tok)
            blocks.indented.append((start, end))
            blocks.code_lines.update(range(start, end + 1))
        elif tok.type == "table_open":
            start, end = _span(tok)
            blocks.tables.append(Table(start, end, _table_header(tokens, i)))
    return blocks


def section_end(blocks: Blocks, heading: Heading) -> int:
    """Last line of the part a heading opens: up to the next heading of its level or above."""
    for h in blocks.headings:
        if h.line > heading.line and h.level <= heading.level:
            return h.line - 1
    return blocks.last_line
