"""A minimal ``apply_patch`` for the fake codex.

Understands the codex patch envelope::

    *** Begin Patch
    *** Add File: path        followed by ``+line`` lines (the whole new file)
    *** Delete File: path
    *** Update File: path     followed by hunks: ``@@`` then `` ``/``-``/``+`` lines
    *** End Patch

An update hunk's context and ``-`` lines must appear in the file, in order;
they are replaced by its context and ``+`` lines (first occurrence). Move
(``*** Move to:``) is not supported. Paths resolve against the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class PatchError(Exception):
    """The patch cannot be parsed or applied (codex then emits no item)."""


@dataclass
class FileOp:
    kind: str  # add | delete | update
    path: str
    lines: list[str] = field(default_factory=list)


def parse_patch(text: str) -> list[FileOp]:
    """The file operations of a patch, in order."""
    ops: list[FileOp] = []
    for raw in text.splitlines():
        if raw.startswith(("*** Begin Patch", "*** End Patch", "*** End of File")):
            continue
        for prefix, kind in (
            ("*** Add File: ", "add"),
            ("*** Delete File: ", "delete"),
            ("*** Update File: ", "update"),
        ):
            if raw.startswith(prefix):
                ops.append(FileOp(kind, raw[len(prefix) :].strip()))
                break
        else:
            if not ops:
                if raw.strip():
                    raise PatchError(f"unexpected line before a file header: {raw!r}")
                continue
            ops[-1].lines.append(raw)
    if not ops:
        raise PatchError("the patch names no file")
    return ops


def _hunks(lines: list[str]) -> list[list[str]]:
    hunks: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("@@"):
            if hunks[-1]:
                hunks.append([])
            continue
        hunks[-1].append(line)
    return [h for h in hunks if h]


def _apply_update(content: list[str], lines: list[str], path: str) -> list[str]:
    for hunk in _hunks(lines):
        old = [ln[1:] for ln in hunk if ln[:1] in (" ", "-", "")]
        new = [ln[1:] for ln in hunk if ln[:1] in (" ", "+", "")]
        for start in range(len(content) - len(old) + 1):
            if content[start : start + len(old)] == old:
                content = content[:start] + new + content[start + len(old) :]
                break
        else:
            raise PatchError(f"Failed to find expected lines in {path}")
    return content


def apply_patch(text: str, workspace: Path) -> list[tuple[Path, str]]:
    """Apply a patch under ``workspace``; returns (absolute path, kind) per file."""
    ops = parse_patch(text)
    results: list[tuple[Path, str]] = []
    for op in ops:
        target = (workspace / op.path).resolve()
        if op.kind == "add":
            target.parent.mkdir(parents=True, exist_ok=True)
            body = [ln[1:] for ln in op.lines if ln.startswith("+")]
            target.write_text("".join(b + "\n" for b in body), encoding="utf-8")
        elif op.kind == "delete":
            if not target.exists():
                raise PatchError(f"Failed to delete {op.path}: no such file")
            target.unlink()
        else:
            if not target.exists():
                raise PatchError(f"Failed to read file to update {op.path}")
            content = target.read_text(encoding="utf-8").splitlines()
            updated = _apply_update(content, op.lines, op.path)
            target.write_text("".join(u + "\n" for u in updated), encoding="utf-8")
        results.append((target, op.kind))
    return results
