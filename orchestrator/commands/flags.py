"""The command line's shared flags: global ones, settings overrides, milestone selection.

A settings flag's ``dest`` is the dotted settings key it overrides
(``loop.max_attempts``); :func:`flag_names` maps each key back to the option a
person typed, for the origins :mod:`orchestrator.settings.loader` reports.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orchestrator.errors import EXIT_CODES


def exit_code_epilog() -> str:
    rows = "\n".join(f"  {int(code):>3}  {text}" for code, text in EXIT_CODES.items())
    return f"exit codes:\n{rows}"


def add_settings_flags(p: argparse.ArgumentParser, *, resume: bool = False) -> None:
    """Flags that override settings (dotted keys in ``dest``)."""
    g = p.add_argument_group("settings (override config file and ORCH_* environment)")
    g.add_argument(
        "--allow-dirty",
        dest="run.allow_dirty",
        action="store_true",
        default=None,
        help="run even if the work tree has uncommitted changes",
    )
    branch_help = (
        "the branch the run is on: resume stops if another branch is checked out"
        if resume
        else "run on this branch, created at HEAD unless it is checked out"
    )
    g.add_argument("--branch", dest="run.branch", metavar="NAME", help=branch_help)
    g.add_argument(
        "--max-attempts",
        dest="loop.max_attempts",
        type=int,
        metavar="N",
        help="repairs allowed per milestone (default 3)",
    )
    g.add_argument(
        "--no-review",
        dest="loop.review_gate",
        action="store_false",
        default=None,
        help="skip the review gate; validation alone decides",
    )
    g.add_argument(
        "--on-give-up",
        dest="loop.on_give_up",
        choices=["keep", "reset"],
        help="keep (default) or reset a failed milestone's changes",
    )
    g.add_argument(
        "--max-wall",
        dest="run.max_wall",
        metavar="DURATION",
        help="wall-clock budget of this invocation, e.g. 90m, 6h",
    )
    g.add_argument(
        "--deadline",
        dest="run.deadline",
        metavar="HH:MM",
        help="no milestone starts after this local time (24-hour clock, e.g. 6:30 or 23:00)",
    )
    g.add_argument(
        "--max-tokens",
        dest="run.max_tokens",
        type=int,
        metavar="N",
        help="token budget of this invocation",
    )
    g.add_argument(
        "--max-total-tokens",
        dest="budget.total_tokens",
        type=int,
        metavar="N",
        help="token budget of the whole run, across invocations",
    )
    g.add_argument(
        "--step-timeout",
        dest="codex.step_timeout",
        metavar="DURATION",
        help="wall-clock limit of one codex step",
    )
    g.add_argument(
        "--stall-timeout",
        dest="codex.stall_timeout",
        metavar="DURATION",
        help="end a codex step idle this long (no event, command or session entry)",
    )
    g.add_argument(
        "--command-timeout",
        dest="codex.command_timeout",
        metavar="DURATION",
        help="end a codex step whose command runs this long",
    )
    g.add_argument(
        "--check-timeout",
        dest="checks.timeout",
        metavar="DURATION",
        help="limit of one validation command",
    )
    g.add_argument(
        "--holdout-checks",
        dest="verify.holdout_checks",
        metavar="FILE",
        help="TOML file of hidden acceptance checks, kept outside the repository",
    )
    g.add_argument("--codex-bin", dest="codex.binary", metavar="PATH", help="codex executable")
    g.add_argument("--model", dest="codex.model", metavar="NAME", help="model passed to codex")
    g.add_argument(
        "--sandbox",
        dest="codex.sandbox",
        choices=["read-only", "workspace-write", "danger-full-access"],
        help="sandbox of implement/repair steps (default workspace-write)",
    )


def add_selection_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "milestone selection",
        "N is a milestone id or number. Without these flags the run skips the milestones the "
        "plan marks done (ticked in Progress, 'Status: done') and starts at the first open one.",
    )
    g.add_argument("--only", metavar="N", help="run milestone N alone, even if marked done")
    g.add_argument(
        "--from",
        dest="start",
        metavar="N",
        help="run N and every later milestone, even those marked done; skip the ones before",
    )
    g.add_argument(
        "--until", metavar="N", help="end the run after milestone N (later ones stay open)"
    )
    g.add_argument(
        "--redo",
        action="append",
        default=[],
        metavar="N",
        help="run milestone N again although the plan marks it done (repeatable)",
    )


def add_common_flags(p: argparse.ArgumentParser, *, default: Any) -> None:
    """Flags accepted before and after the subcommand.

    On subcommands they use ``default=SUPPRESS`` (an absent flag there keeps the value given
    before it) and are left out of the subcommand's help: ``orchestrator --help`` lists them
    once, and the subcommand's help says where to find them.
    """
    top = default is None

    def shown(text: str) -> str:
        return text if top else argparse.SUPPRESS

    p.add_argument(
        "-C",
        "--repo",
        type=Path,
        default=default,
        metavar="DIR",
        help=shown("run as if started in DIR: the target repository (default: the current "
                   "directory); PLAN paths are found there first"),
    )  # fmt: skip
    p.add_argument(
        "--config",
        type=Path,
        default=default,
        metavar="FILE",
        help=shown("config file (default: .agent/orchestrator.toml if present)"),
    )
    p.add_argument(
        "--log-format",
        dest="log.format",
        choices=["auto", "console", "json"],
        default=default,
        help=shown("console log format"),
    )
    p.add_argument(
        "-q",
        "--quiet",
        dest="log.quiet",
        action="store_true",
        default=default,
        help=shown("print nothing when the run finishes cleanly (for cron)"),
    )


def flag_names() -> dict[str, str]:
    """Dotted settings key -> the longest option string that sets it."""
    parser = argparse.ArgumentParser(add_help=False)
    add_common_flags(parser, default=None)
    add_settings_flags(parser)
    names: dict[str, str] = {}
    for action in parser._actions:
        if action.option_strings and "." in action.dest:
            names.setdefault(action.dest, max(action.option_strings, key=len))
    return names
