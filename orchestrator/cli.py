"""Command line: parse, dispatch to one core function, map errors to exit codes.

Nothing here decides anything. Imports of the core are lazy so that
``orchestrator --help`` and ``orchestrator status`` start fast.
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from orchestrator import __version__
from orchestrator.commands import handlers
from orchestrator.commands.flags import (
    add_common_flags,
    add_selection_flags,
    add_settings_flags,
    exit_code_epilog,
)
from orchestrator.commands.subcommands import MakesParsers, Subcommands, named_command
from orchestrator.errors import ExitCode, expected_error

Handler = Callable[[argparse.Namespace], int]


_GLOBAL_EPILOG = (
    "Global options (-C DIR, --config FILE, -q, --log-format) are accepted before or after "
    "the subcommand; `orchestrator --help` describes them."
)
_PLAN_HELP = "the ExecPlan file (Markdown), e.g. .agent/plans/feature.md; relative to -C DIR"


def _sub(sub: MakesParsers, name: str, summary: str, text: str) -> argparse.ArgumentParser:
    """A subcommand with a one-line summary (in the command list) and a description."""
    p = sub.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.\n\n{text}",
        epilog=_GLOBAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_flags(p, default=argparse.SUPPRESS)
    return p


_RUN_TEXT = """\
Runs each milestone of PLAN not yet done: implement with codex, run the plan's checks,
review, repair until the checks pass and the review approves, then commit. Progress is
kept in .agent/runs/ so that `orchestrator resume` continues after a stop or a crash."""
_RESUME_TEXT = """\
Continues the newest unfinished run (of PLAN, if given; or the run named by --run) where
it stopped. Milestones that stopped for a human get a fresh repair budget."""
_STATUS_TEXT = """\
Reads the run state files without taking the lock, so it answers at once, also while a
run is going on."""
_CHECK_TEXT = """\
Parses PLAN as the run would, lists its milestones and checks, and prints each problem
with its line. Exits 0 when the plan is runnable, 2 when it is not."""
_ADOPT_TEXT = """\
Reads PLAN's own commands (code blocks, `$ ` lines, inline code, "Expected:" output) and
proposes checks per milestone and plan-wide, with the line each came from and why it
counts; lists what it refused (servers, deploys, destructive, external, interactive,
setup, manual-only) and why. Never runs a command. --write inserts the checks as
`validate` blocks without changing any existing byte."""
_DEMO_TEXT = """\
Copies a small sample project into a new git repository and runs its three-milestone
plan with the real codex binary against the scripted model: no network, no API key."""
_SERVER_TEXT = """\
Serves the Responses API from a scenario file so that the real codex binary runs
offline, and prepares a CODEX_HOME pointing at it. Runs until SIGINT or SIGTERM."""
_COMPLETION_TEXT = """\
bash: `source <(orchestrator completion bash)` in ~/.bashrc, or save it as
~/.local/share/bash-completion/completions/orchestrator. zsh: `eval "$(orchestrator
completion zsh)"` in ~/.zshrc. Completes subcommands, options, option values and paths."""
_LOGS_TEXT = """\
Prints the progress lines, warnings and errors of a run (the newest, unless ID is
given) from its .agent/runs/ID/events.jsonl, as its console showed them. With -f it
follows the run from any shell (a cron or tmux run, say) until the run ends."""
_RUNS_TEXT = """\
Each run keeps its state, events, transcripts, check output and report in
.agent/runs/ID/. `runs` lists them with their size; `runs show ID` prints a report;
`runs prune` removes old ones. Reads files only; takes no lock."""
_PRUNE_TEXT = """\
Keeps the --keep N newest runs of each plan (default 1) and removes the others' run
directories. Never removes the run holding the repository lock, nor a directory whose
state cannot be read."""
_REHEARSE_TEXT = """\
Checks SCENARIO, clones the repository (with PLAN and the config as they are in your
working tree) into a scratch directory, serves the scenario to the real codex binary,
runs PLAN there and prints the report. Your working tree is not touched; no network,
no API key. The scenario format is in docs/scripted-model.md."""
_INIT_TEXT = """\
Adds .agent/PLANS.md (how to write an ExecPlan), .agent/plans/TEMPLATE.md,
.agent/orchestrator.toml and an AGENTS.md section. Never overwrites a file."""
_DOCTOR_TEXT = """\
Checks, without any model request, what a run needs: git and an identity, the codex
binary and its version, codex's config, profile and credentials, the plan, and that every
check's program can be found. `run` and `resume` check the same before starting.
Exits 0 when every item is ok, 2 otherwise."""
_CONFIG_TEXT = """\
Prints the settings a run would use: defaults < config file < ORCH_* environment < flags,
each with where its value came from (--json for machines)."""


def _add_accept_changes(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--accept-changes",
        action="store_true",
        help="continue an unfinished run although settings it depends on (checks shell, "
        "sandbox, review gate, hooks, codex binary and arguments, verify.*, the plan's "
        "checks) changed since it started; the new values are pinned",
    )


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``only``, that subcommand alone (when it is one,
    see :mod:`orchestrator.commands.subcommands`)."""
    parser = argparse.ArgumentParser(
        prog="orchestrator",
        description="Drive `codex exec` through the milestones of an ExecPlan, unattended.",
        epilog=exit_code_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"orchestrator {__version__}")
    add_common_flags(parser, default=None)
    sub = Subcommands(parser.add_subparsers(dest="command", metavar="COMMAND"), only)

    p = _sub(sub, "run", "run an ExecPlan's milestones", _RUN_TEXT)
    p.add_argument(
        "plan",
        type=Path,
        nargs="+",
        metavar="PLAN",
        help=_PLAN_HELP + "; several plans run side by side in worktrees (see --parallel)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="start a new run even if an unfinished one exists"
    )
    p.add_argument(
        "--parallel",
        type=int,
        metavar="N",
        help="run the plans in their own git worktrees, at most N at once (default: all)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the milestones, their checks and the prompts a run would send; "
        "run nothing, write nothing",
    )
    add_selection_flags(p)
    _add_accept_changes(p)
    add_settings_flags(p)
    p.set_defaults(handler=handlers.cmd_run)

    p = _sub(sub, "resume", "continue the newest unfinished run", _RESUME_TEXT)
    p.add_argument(
        "plan", type=Path, nargs="?", metavar="PLAN", help=_PLAN_HELP + " (default: any plan)"
    )
    p.add_argument("--run", dest="run_id", metavar="ID", help="resume this run id")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild a corrupt state file from git history and the plan",
    )
    p.add_argument(
        "--answer",
        metavar="TEXT",
        help="answer the question that stopped the run (recorded in the Decision Log)",
    )
    p.add_argument("--answer-file", type=Path, metavar="FILE", help="the answer, read from a file")
    _add_accept_changes(p)
    add_settings_flags(p, resume=True)
    p.set_defaults(handler=handlers.cmd_resume)

    p = _sub(sub, "status", "show the runs of this repository", _STATUS_TEXT)
    p.add_argument(
        "plan", type=Path, nargs="?", metavar="PLAN", help=_PLAN_HELP + " (default: all plans)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--all",
        dest="show_all",
        action="store_true",
        help="every run, not only the newest of each plan (older ones show as superseded)",
    )
    p.set_defaults(handler=handlers.cmd_status)

    p = _sub(sub, "logs", "print a run's progress lines; -f follows it", _LOGS_TEXT)
    p.add_argument(
        "run_id", nargs="?", metavar="ID", help="the run id or a unique prefix (default: newest)"
    )
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    p.add_argument("--json", action="store_true", help="print the JSON records themselves")
    p.set_defaults(handler=handlers.cmd_logs)

    p = _sub(sub, "runs", "list, show and prune the runs of this repository", _RUNS_TEXT)
    p.set_defaults(handler=handlers.cmd_runs, runs_action="list")
    actions = p.add_subparsers(dest="runs_action", metavar="ACTION")
    q = _sub(actions, "list", "one line per run, newest first", "The default action.")
    q = _sub(actions, "show", "print a run's report", "ID may be a unique prefix.")
    q.add_argument("run_id", metavar="ID", help="the run id (or a unique prefix of it)")
    q = _sub(actions, "prune", "remove old run directories", _PRUNE_TEXT)
    q.add_argument(
        "--keep", type=int, default=1, metavar="N", help="runs kept per plan (default 1)"
    )
    q.add_argument("--dry-run", action="store_true", help="say what would be removed")

    p = _sub(sub, "check", "lint an ExecPlan and say whether it is runnable", _CHECK_TEXT)
    p.add_argument("plan", type=Path, metavar="PLAN", help=_PLAN_HELP)
    p.add_argument("--json", action="store_true", help="print the parsed plan as JSON")
    p.set_defaults(handler=handlers.cmd_check)

    p = _sub(sub, "adopt", "derive checks from a plan's own commands", _ADOPT_TEXT)
    p.add_argument("plan", type=Path, metavar="PLAN", help=_PLAN_HELP)
    p.add_argument(
        "--write", action="store_true", help="insert the checks as `validate` blocks into PLAN"
    )
    p.add_argument("--json", action="store_true", help="print the proposal as JSON")
    p.add_argument(
        "--with-codex",
        action="store_true",
        help="also ask a read-only codex step for checks where the text has none",
    )
    p.add_argument("--codex-bin", dest="codex.binary", metavar="PATH", help="codex executable")
    p.add_argument("--model", dest="codex.model", metavar="NAME", help="model passed to codex")
    p.set_defaults(handler=handlers.cmd_adopt)

    p = _sub(sub, "demo", "run a sample plan offline on the real codex binary", _DEMO_TEXT)
    p.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="create the demo repository here instead of a temporary directory",
    )
    p.set_defaults(handler=handlers.cmd_demo)

    p = _sub(sub, "model-server", "serve a scripted model for codex on 127.0.0.1", _SERVER_TEXT)
    p.add_argument(
        "scenario", type=Path, metavar="SCENARIO", help="the scenario file (JSON), see docs"
    )
    p.add_argument(
        "--codex-home",
        type=Path,
        default=None,
        metavar="DIR",
        help="prepare this CODEX_HOME (default: a new temporary directory)",
    )
    p.set_defaults(handler=handlers.cmd_model_server)

    p = _sub(sub, "rehearse", "run a plan against a scripted model in a scratch clone",
             _REHEARSE_TEXT)  # fmt: skip
    p.add_argument("plan", type=Path, metavar="PLAN", help=_PLAN_HELP)
    p.add_argument(
        "scenario", type=Path, metavar="SCENARIO", help="the scenario file (JSON), see docs"
    )
    p.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="make the scratch clone here and keep it (default: a temporary directory)",
    )
    add_settings_flags(p)
    p.set_defaults(handler=handlers.cmd_rehearse)

    p = _sub(sub, "init", "add PLANS.md, a plan template and a config", _INIT_TEXT)
    p.add_argument(
        "directory",
        type=Path,
        nargs="?",
        default=None,
        metavar="DIR",
        help="where to add them (default: -C DIR, else the current directory)",
    )
    p.set_defaults(handler=handlers.cmd_init)

    p = _sub(sub, "doctor", "check git, codex, credentials, the plan and its checks",
             _DOCTOR_TEXT)  # fmt: skip
    p.add_argument("plan", type=Path, nargs="?", metavar="PLAN", help=_PLAN_HELP + " (optional)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_flags(p)
    p.set_defaults(handler=handlers.cmd_doctor)

    p = _sub(sub, "completion", "print a shell completion script", _COMPLETION_TEXT)
    p.add_argument("shell", choices=["bash", "zsh"], help="the shell to complete in")
    p.set_defaults(handler=functools.partial(handlers.cmd_completion, parser=_build_parser))

    p = _sub(sub, "config", "show the effective settings", _CONFIG_TEXT)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_settings_flags(p)
    p.set_defaults(handler=handlers.cmd_config)

    from orchestrator.commands.fleet import add_commands

    add_commands(sub, _sub)
    return parser if sub.complete else _build_parser()


# The program's garbage collector: a young collection every 100,000 allocations, not 700.
# Start-up allocates some 10^5 long-lived objects (modules, models, schemas); with the
# default the collector walked them all at least once before the first milestone (20-40
# ms) and again every few hundred milliseconds during a run. (mypy sets 200,000.)
GC_THRESHOLDS = (100_000, 20, 20)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the process exit code (see ``orchestrator.errors``).

    Called as the program (``argv`` None: ``python -m orchestrator``, the ``orchestrator``
    command), it sets the collector's thresholds (:data:`GC_THRESHOLDS`) and, at the
    end, leaves what the command allocated to the operating system (:func:`gc.freeze`):
    the process ends right after, and the interpreter's last collections would otherwise
    free the whole heap object by object (0.1-0.2 s after a run). Exit handlers, log
    handlers and the standard streams are still flushed. Called with arguments (tests,
    other code) it leaves the caller's collector alone.
    """
    if argv is None:
        gc.set_threshold(*GC_THRESHOLDS)
    code = _dispatch(argv)
    if argv is None:
        gc.freeze()
    return code


def _dispatch(argv: Sequence[str] | None) -> int:
    from orchestrator.ui import console

    parser = _build_parser(named_command(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return int(ExitCode.USAGE)
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        console.err("orchestrator: interrupted")
        return int(ExitCode.INTERRUPTED)
    except (Exception, BaseExceptionGroup) as exc:  # groups: errors from inside a task group
        expected = expected_error(exc)
        if expected is not None:
            console.err(f"orchestrator: {expected.message}")
            return int(expected.exit_code)
        if isinstance(exc, BaseExceptionGroup) and exc.subgroup(KeyboardInterrupt) is not None:
            console.err("orchestrator: interrupted")
            return int(ExitCode.INTERRUPTED)
        from orchestrator.crash import write_crash_log

        log = write_crash_log(exc)
        console.err(f"orchestrator: internal error: {exc!r}; details in {log}")
        return int(ExitCode.INTERNAL)
