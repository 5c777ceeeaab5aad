"""Building only the subcommand a command line names.

Adding every subcommand's options to the parser costs more than the rest of an early
exit (``orchestrator resume`` with nothing to resume, see bench/bench_startup.py). When
the command line names its subcommand plainly (nothing but global options before it),
the parser gets that one subcommand; the others are stand-ins that ignore what is added
to them. The parse is the same: the subcommand's own parser is built as always, and the
top-level usage does not list the subcommands (``COMMAND``). Anything else (``--help``,
``--version``, an abbreviated option, a word that is no subcommand) builds them all.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

# Global options that take a value (see commands/flags.py: add_common_flags).
_WITH_VALUE = frozenset({"-C", "--repo", "--config", "--log-format"})
_WITHOUT_VALUE = frozenset({"-q", "--quiet"})
_ATTACHED = ("--repo=", "--config=", "--log-format=", "-C")  # the value in the same word


def named_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names after nothing but global options, or None."""
    tokens = iter(argv)
    for token in tokens:
        if token in _WITH_VALUE:
            next(tokens, None)
        elif token in _WITHOUT_VALUE or token.startswith(_ATTACHED):
            continue
        else:
            return None if token.startswith("-") else token
    return None


class MakesParsers(Protocol):
    """What subcommands are added to: argparse's subparsers, or :class:`Subcommands`."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class _Ignored:
    """Stands in for the parser of a subcommand this command line does not name."""

    def __getattr__(self, _name: str) -> Callable[..., _Ignored]:
        return self._ignore

    def _ignore(self, *_args: object, **_kwargs: object) -> _Ignored:
        return self


class Subcommands:
    """The top-level subparsers, building ``wanted`` only (every one when None)."""

    def __init__(self, action: Any, wanted: str | None) -> None:
        self.action = action
        self.wanted = wanted
        self.names: set[str] = set()

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        self.names.add(name)
        if self.wanted is not None and name != self.wanted:
            return cast("argparse.ArgumentParser", _Ignored())
        parser: argparse.ArgumentParser = self.action.add_parser(name, **kwargs)
        return parser

    @property
    def complete(self) -> bool:
        """Whether the parser can parse the command line (it names a built subcommand)."""
        return self.wanted is None or self.wanted in self.names
