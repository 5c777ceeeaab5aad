"""The parser built for one named subcommand parses exactly as the whole parser does.

``orchestrator resume`` builds only the ``resume`` subcommand (see
orchestrator/commands/subcommands.py); these tests hold its parse, its errors and its
help to those of the parser with every subcommand.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

import pytest

from orchestrator.cli import _build_parser
from orchestrator.commands.subcommands import named_command

VALID = [
    ["run", ".agent/plans/a.md"],
    ["-C", "/tmp", "-q", "run", "a.md", "b.md", "--parallel", "2", "--max-attempts", "5"],
    ["--log-format", "json", "run", "a.md", "--from", "2", "--redo", "3", "--dry-run"],
    ["--config=x.toml", "resume", "a.md", "--answer", "yes", "--accept-changes"],
    ["-C/tmp", "resume", "--run", "20260101-000000-aaaa", "--rebuild", "-q"],
    ["status", "--json", "--all"],
    ["--repo=/tmp", "status", "a.md"],
    ["logs", "-f", "abc"],
    ["runs"],
    ["runs", "show", "abc"],
    ["runs", "prune", "--keep", "2", "--dry-run"],
    ["check", "a.md", "--json"],
    ["adopt", "a.md", "--write", "--with-codex", "--model", "m"],
    ["demo", "--keep", "/tmp/d"],
    ["model-server", "s.json"],
    ["rehearse", "a.md", "s.json", "--keep", "/tmp/k"],
    ["init", "dir"],
    ["doctor", "a.md", "--json", "--codex-bin", "/bin/true"],
    ["completion", "bash"],
    ["config", "--json", "--branch", "b"],
    ["worker", "--temporal", "h:1", "--task-queue", "q"],
    ["submit", "--temporal", "h:1", "--repo", "r", "--plan", "p"],
    ["fleet", "status", "--temporal", "h:1", "--json"],
]
INVALID = [
    ["bogus"],
    ["resume", "--bogus"],
    ["run"],
    ["runs", "show"],
    ["status", "--log-format", "xml"],
    ["--log-format", "xml", "status"],
    ["completion", "fish"],
    ["-C"],
]


def _comparable(ns: argparse.Namespace) -> dict[str, Any]:
    out = dict(vars(ns))
    handler = out.pop("handler", None)
    if isinstance(handler, functools.partial):
        handler = handler.func
    out["handler"] = getattr(handler, "__name__", None)
    return out


@pytest.mark.parametrize("argv", VALID, ids=" ".join)
def test_one_subcommand_parses_as_all_of_them(argv: list[str]) -> None:
    wanted = named_command(argv)
    assert wanted is not None
    lean = _build_parser(wanted)
    built = next(a for a in lean._actions if isinstance(a, argparse._SubParsersAction))
    assert set(built.choices) == {wanted}
    assert _comparable(lean.parse_args(argv)) == _comparable(_build_parser().parse_args(argv))


HELP = [["resume", "--help"], ["-q", "run", "-h"], ["runs", "prune", "-h"]]


@pytest.mark.parametrize("argv", [*INVALID, *HELP], ids=" ".join)
def test_errors_and_help_are_the_same(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    answers = []
    for parser in (_build_parser(named_command(argv)), _build_parser()):
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        answers.append((info.value.code, capsys.readouterr()))
    assert answers[0] == answers[1]


def test_what_names_a_subcommand() -> None:
    assert named_command(["-C", "d", "--config", "c", "--log-format", "json", "-q", "x"]) == "x"
    assert named_command(["--quiet", "--repo=d", "-Cd", "x", "--help"]) == "x"
    assert named_command(["--help", "x"]) is None
    assert named_command(["--version"]) is None
    assert named_command(["--conf", "c", "x"]) is None  # an abbreviation: argparse decides
    assert named_command(["-qC", "d", "x"]) is None
    assert named_command([]) is None
