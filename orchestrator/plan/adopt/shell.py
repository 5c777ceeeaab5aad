"""Reading one shell command line the way a careful person would: words and operators.

Only what the safety rules need: the simple commands of a line (split at ``&&``,
``||``, ``;``, ``|`` and ``&``), each with its leading ``VAR=value`` assignments
and its redirections taken apart. Nothing here runs anything.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

PROMPT = re.compile(r"^(?:\$|%|>|PS>|PS [A-Za-z]:[^>]*>|[A-Za-z]:\\[^>]*>|\(\S+\)\s*\$)\s+")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = {">", ">>", "<", ">&", "&>", ">|", "<<", "<<<", "&>>", "<&"}
_SEPARATORS = {"&&", "||", ";", "|", "&", "|&", ";;", "(", ")"}


@dataclass
class Simple:
    """One simple command: assignments, words, redirection targets."""

    assignments: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    after: str = ""
    """The operator that ended this command ('' at the end of the line)."""

    @property
    def program(self) -> str:
        return self.words[0] if self.words else ""


class Unparsable(ValueError):
    """The line is not a shell command we can read (unbalanced quotes, ...)."""


def strip_prompt(line: str) -> str:
    """The line without a leading ``$ `` / ``% `` / ``PS> `` prompt."""
    return PROMPT.sub("", line.strip(), count=1)


def has_prompt(line: str) -> bool:
    text = line.strip()
    return bool(PROMPT.match(text)) and not text.startswith(">")


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError as exc:
        raise Unparsable(str(exc)) from exc


def split(line: str) -> list[Simple]:
    """The simple commands of ``line`` in order; raises Unparsable."""
    out: list[Simple] = []
    current = Simple()
    tokens = _tokens(line)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _SEPARATORS:
            current.after = tok
            out.append(current)
            current = Simple()
        elif tok in _REDIRECT or (
            tok.isdigit() and i + 1 < len(tokens) and tokens[i + 1] in _REDIRECT
        ):
            if tok.isdigit():
                i += 1
                tok = tokens[i]
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            current.redirects.append((tok, target))
            i += 1
        elif not current.words and _ASSIGN.match(tok):
            current.assignments.append(tok)
        else:
            current.words.append(tok)
        i += 1
    out.append(current)
    return [s for s in out if s.words or s.assignments or s.redirects]
