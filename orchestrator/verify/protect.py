"""Protected paths: the files whose checkpoint version judges a milestone.

A pattern is a glob over repository paths (``*`` and ``?`` stay inside one
directory, ``**`` crosses directories, ``**/`` may match nothing), optionally
followed by ``#SECTION``: then only that part of the file is protected, one
table of a TOML file (``pyproject.toml#tool.pytest`` covers
``[tool.pytest.ini_options]``), one section of an INI file
(``setup.cfg#tool:pytest``) or one top-level key of a JSON file
(``package.json#scripts``). Files a check command names (``bash
scripts/check.sh``) are protected too.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Pattern:
    """One protected-path pattern."""

    glob: str
    section: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pattern:
        glob, sep, section = text.strip().partition("#")
        return cls(glob.strip().lstrip("/"), section.strip() if sep and section.strip() else None)

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(glob_regex(self.glob))

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def glob_regex(glob: str) -> str:
    """A regular expression for ``glob`` over POSIX paths."""
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Protection:
    """How one path is protected: whole, or only some sections of it."""

    path: str
    sections: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        return not self.sections


_SCRIPT_DIRS = {"scripts", "script", "ci", "tools", "bin", "hack", ".github"}
_SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".mk", ".ps1", ".bat")


def _is_script(path: str) -> bool:
    """A check script, not the code under test (``python app.py`` leaves app.py free)."""
    return path.endswith(_SCRIPT_SUFFIXES) or path.split("/", 1)[0] in _SCRIPT_DIRS


def command_paths(commands: Iterable[str], files: set[str]) -> set[str]:
    """Check scripts among ``files`` that a check command names (``bash scripts/check.sh``)."""
    found = set()
    for command in commands:
        try:
            words = shlex.split(command, comments=True)
        except ValueError:
            words = command.split()
        for word in words:
            for part in re.split(r"[=:]", word) if "=" in word else [word]:
                candidate = part.removeprefix("./")
                if candidate in files and _is_script(candidate):
                    found.add(candidate)
    return found


def protections(
    paths: Iterable[str], patterns: Sequence[Pattern], named: set[str]
) -> dict[str, Protection]:
    """The protection of each of ``paths`` that a pattern (or a check command) covers.

    Whole-file patterns are matched as one combined expression (a 5,000-file tree is
    one pass, not one per pattern)."""
    whole = [p.glob for p in patterns if p.section is None]
    combined = re.compile("|".join(f"(?:{glob_regex(g)})" for g in whole)) if whole else None
    sectioned = [p for p in patterns if p.section is not None]
    result: dict[str, Protection] = {}
    for path in paths:
        if path in named or (combined is not None and combined.fullmatch(path)):
            result[path] = Protection(path)
            continue
        sections = [p.section for p in sectioned if p.section and p.matches(path)]
        if sections:
            result[path] = Protection(path, tuple(sections))
    return result


# -- sections of one file ----------------------------------------------------------------------

_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_INI_HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def _blocks(text: str, header: re.Pattern[str]) -> list[tuple[str | None, str]]:
    """``(name, text)`` per table/section; the part before the first header has name None."""
    blocks: list[tuple[str | None, str]] = [(None, "")]
    for line in text.splitlines(keepends=True):
        m = header.match(line)
        if m:
            blocks.append((m.group(1).strip().strip('"'), line))
        else:
            name, body = blocks[-1]
            blocks[-1] = (name, body + line)
    return blocks


def _covered(name: str | None, sections: Sequence[str]) -> bool:
    if name is None:
        return False
    return any(name == s or name.startswith(s + ".") or name.startswith(s + "_") for s in sections)


def _splice_blocks(
    candidate: str, checkpoint: str, sections: Sequence[str], header: re.Pattern[str]
) -> str:
    kept = [body for name, body in _blocks(candidate, header) if not _covered(name, sections)]
    restored = [body for name, body in _blocks(checkpoint, header) if _covered(name, sections)]
    out = "".join(kept)
    if restored and out and not out.endswith("\n"):
        out += "\n"
    return out + "".join(restored)


def _splice_json(candidate: str, checkpoint: str, sections: Sequence[str]) -> str:
    try:
        new = json.loads(candidate)
        old = json.loads(checkpoint)
    except ValueError:
        return checkpoint  # unreadable: the whole checkpoint file judges
    if not isinstance(new, dict) or not isinstance(old, dict):
        return checkpoint
    for key in sections:
        if key in old:
            new[key] = old[key]
        else:
            new.pop(key, None)
    return json.dumps(new, indent=2) + "\n"


def splice(path: str, candidate: str, checkpoint: str, sections: Sequence[str]) -> str:
    """``candidate`` with the protected ``sections`` as they were in ``checkpoint``."""
    if path.endswith(".json"):
        return _splice_json(candidate, checkpoint, sections)
    if path.endswith(".toml"):
        return _splice_blocks(candidate, checkpoint, sections, _TOML_HEADER)
    return _splice_blocks(candidate, checkpoint, sections, _INI_HEADER)


def section_text(path: str, text: str, sections: Sequence[str]) -> str:
    """Only the protected ``sections`` of ``text`` (to tell whether they changed)."""
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if not isinstance(data, dict):
            return text
        return json.dumps({k: data.get(k) for k in sections}, sort_keys=True)
    header = _TOML_HEADER if path.endswith(".toml") else _INI_HEADER
    return "".join(body for name, body in _blocks(text, header) if _covered(name, sections))
