"""Reading and writing plan files byte-exactly, and splitting them into lines.

A plan's text keeps everything the file holds: a UTF-8 BOM stays as
``'\\ufeff'`` and line endings are not translated, so ``write(read(f))``
reproduces the file. Lines are split the way markdown-it splits them
(``\\r\\n``, ``\\r`` or ``\\n``), so token line maps and our line numbers agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.errors import PlanError
from orchestrator.store.atomic import atomic_write

BOM = "\ufeff"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_ENDING = re.compile(r"\r\n|\r|\n")
_FIX = (
    "Pass the path of an ExecPlan: a UTF-8 Markdown file with sections such as "
    "`## Purpose / Big Picture`, `## Progress` and `## Plan of Work` "
    "(see .agent/PLANS.md; `orchestrator init` writes a template)."
)


def split_lines(text: str) -> list[str]:
    """Lines with their endings; ``''.join(split_lines(t)) == t`` always."""
    return _LINE.findall(text)


def line_body(line: str) -> str:
    """A line without its ending."""
    return line.rstrip("\r\n")


def newline_of(text: str) -> str:
    """The file's newline style: the first line ending found, else ``\\n``."""
    m = _ENDING.search(text)
    return m.group(0) if m else "\n"


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_plan_text(path: Path) -> str:
    """The plan's text, byte-exact (BOM kept, no newline translation).

    Raises PlanError with a one-paragraph message for a missing file, a
    directory, an unreadable, empty, binary or non-UTF-8 file.
    """
    if not path.exists():
        raise PlanError(f"{path}: no such file. {_FIX}")
    if path.is_dir():
        raise PlanError(f"{path} is a directory, not a plan file. {_FIX}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(
            f"{path}: cannot read the plan ({exc.strerror or exc}). "
            "Check the file's permissions and try again."
        ) from exc
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise PlanError(f"{path} is empty. {_FIX}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise PlanError(
            f"{path}:{_line_of_offset(data, nul)}: this is a binary file (it holds NUL bytes), "
            f"not a Markdown plan. {_FIX}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        raise PlanError(
            f"{path}:{line}: the file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}). Re-save the plan as UTF-8, for example with "
            f"`iconv -f latin1 -t utf-8 {path.name} > {path.name}.new`, and try again."
        ) from exc


def write_plan_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, line endings as given) atomically."""
    atomic_write(path, text.encode("utf-8"))
