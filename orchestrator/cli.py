"""Command line: parse, dispatch to one core function, map errors to exit codes.

Nothing here decides anything. Imports of the core are lazy so that
``orchestrator --help`` and ``orchestrator status`` start fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator import __version__
from orchestrator.errors import EXIT_CODES, ExitCode, UsageError, expected_error

if TYPE_CHECKING:
    from orchestrator.settings.model import Settings

Handler = Callable[[argparse.Namespace], int]


def _exit_code_epilog() -> str:
    rows = "\n".join(f"  {int(code):>3}  {text}" for code, text in EXIT_CODES.items())
    return f"exit codes:\n{rows}"


def _add_settings_flags(p: argparse.ArgumentParser, *, resume: bool = False) -> None:
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
        else "create this branch and run on it"
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


def _add_selection_flags(p: argparse.ArgumentParser) -> None:
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


def _add_common_flags(p: argparse.ArgumentParser, *, default: Any) -> None:
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


_GLOBAL_EPILOG = (
    "Global options (-C DIR, --config FILE, -q, --log-format) are accepted before or after "
    "the subcommand; `orchestrator --help` describes them."
)
_PLAN_HELP = "the ExecPlan file (Markdown), e.g. .agent/plans/feature.md; relative to -C DIR"


def _sub(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, text: str
) -> argparse.ArgumentParser:
    """A subcommand with a one-line summary (in the command list) and a description."""
    p = sub.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.\n\n{text}",
        epilog=_GLOBAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common_flags(p, default=argparse.SUPPRESS)
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


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchestrator",
        description="Drive `codex exec` through the milestones of an ExecPlan, unattended.",
        epilog=_exit_code_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"orchestrator {__version__}")
    _add_common_flags(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    _add_selection_flags(p)
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_run)

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
    _add_settings_flags(p, resume=True)
    p.set_defaults(handler=_cmd_resume)

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
    p.set_defaults(handler=_cmd_status)

    p = _sub(sub, "logs", "print a run's progress lines; -f follows it", _LOGS_TEXT)
    p.add_argument(
        "run_id", nargs="?", metavar="ID", help="the run id or a unique prefix (default: newest)"
    )
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    p.add_argument("--json", action="store_true", help="print the JSON records themselves")
    p.set_defaults(handler=_cmd_logs)

    p = _sub(sub, "runs", "list, show and prune the runs of this repository", _RUNS_TEXT)
    p.set_defaults(handler=_cmd_runs, runs_action="list")
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
    p.set_defaults(handler=_cmd_check)

    p = _sub(sub, "adopt", "derive checks from a plan's own commands", _ADOPT_TEXT)
    p.add_argument("plan", type=Path, metavar="PLAN", help=_PLAN_HELP)
    p.add_argument(
        "--write", action="store_true", help="insert the checks as `validate` blocks into PLAN"
    )
    p.add_argument("--json", action="store_true", help="print the proposal as JSON")
    p.set_defaults(handler=_cmd_adopt)

    p = _sub(sub, "demo", "run a sample plan offline on the real codex binary", _DEMO_TEXT)
    p.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="create the demo repository here instead of a temporary directory",
    )
    p.set_defaults(handler=_cmd_demo)

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
    p.set_defaults(handler=_cmd_model_server)

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
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_rehearse)

    p = _sub(sub, "init", "add PLANS.md, a plan template and a config", _INIT_TEXT)
    p.add_argument(
        "directory",
        type=Path,
        nargs="?",
        default=None,
        metavar="DIR",
        help="where to add them (default: -C DIR, else the current directory)",
    )
    p.set_defaults(handler=_cmd_init)

    p = _sub(sub, "doctor", "check git, codex, credentials, the plan and its checks",
             _DOCTOR_TEXT)  # fmt: skip
    p.add_argument("plan", type=Path, nargs="?", metavar="PLAN", help=_PLAN_HELP + " (optional)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_doctor)

    p = _sub(sub, "completion", "print a shell completion script", _COMPLETION_TEXT)
    p.add_argument("shell", choices=["bash", "zsh"], help="the shell to complete in")
    p.set_defaults(handler=_cmd_completion)

    p = _sub(sub, "config", "show the effective settings", _CONFIG_TEXT)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_config)

    from orchestrator.commands.fleet import add_commands

    add_commands(sub, _sub)
    return parser


def _repo(args: argparse.Namespace) -> Path:
    """The -C directory (which must exist), or the current directory."""
    repo: Path | None = args.repo
    if repo is None:
        return Path.cwd().resolve()
    if not repo.is_dir():
        what = "is not a directory" if repo.exists() else "does not exist"
        raise UsageError(
            f"-C {repo}: the directory {what}. -C names the repository to work in; "
            "give an existing directory (or leave -C out to use the current one)."
        )
    return repo.resolve()


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if "." in k and v is not None}


def _flag_names() -> dict[str, str]:
    """Dotted settings key -> the longest option string that sets it, from the parser."""
    names: dict[str, str] = {}
    parsers = [_build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            if action.option_strings and "." in action.dest:
                names.setdefault(action.dest, max(action.option_strings, key=len))
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                parsers.extend(choices.values())
    return names


def _settings(args: argparse.Namespace) -> Settings:
    from orchestrator.settings.loader import load_settings
    from orchestrator.ui.logs import configure_logging

    flags = _flags(args)
    settings = load_settings(
        repo=_repo(args),
        config_file=args.config,
        env=os.environ,
        flags=flags,
        flag_names=_flag_names() if flags else None,
    )
    configure_logging(settings.log)
    return settings


def _plan_arg(args: argparse.Namespace) -> Path:
    """PLAN as run and resume find it: under -C first, else relative to the current directory."""
    plan: Path = args.plan
    if plan.is_absolute() or args.repo is None:
        return plan
    under = _repo(args) / plan
    return under if under.exists() or not plan.exists() else plan


def _cmd_adopt(args: argparse.Namespace) -> int:
    from orchestrator.commands.adopt import adopt_command

    return adopt_command(path=_plan_arg(args), write=args.write, as_json=args.json)


def _cmd_check(args: argparse.Namespace) -> int:
    from orchestrator.plan.lint import check_command

    settings = _settings(args)
    return check_command(
        path=_plan_arg(args), as_json=args.json, config_checks=settings.checks.commands
    )


def _cmd_run(args: argparse.Namespace) -> int:
    plans: list[Path] = args.plan
    if len(plans) > 1 or args.parallel is not None:
        return _cmd_run_parallel(args, plans)
    from orchestrator.run.selection import Selection
    from orchestrator.run.session import start_run

    return start_run(
        repo=_repo(args),
        plan_path=plans[0],
        settings=_settings(args),
        fresh=args.fresh,
        config_file=args.config,
        selection=Selection(only=args.only, start=args.start, until=args.until, redo=args.redo),
        dry_run=args.dry_run,
    )


def _cmd_run_parallel(args: argparse.Namespace, plans: list[Path]) -> int:
    from orchestrator.fleet.parallel import run_parallel
    from orchestrator.ui.live import live_enabled

    if args.fresh or args.dry_run:
        raise UsageError("--fresh and --dry-run apply to one plan; run it on its own")
    if args.only or args.start or args.until or args.redo:
        raise UsageError(
            "--only, --from, --until and --redo name milestones of one plan; run it on its own"
        )
    settings = _settings(args)
    return run_parallel(
        repo=_repo(args),
        plans=plans,
        parallel=args.parallel or len(plans),
        flags=_flags(args),
        token_budget=settings.run.max_tokens,
        live=live_enabled(settings.log),
    )


def _cmd_resume(args: argparse.Namespace) -> int:
    from orchestrator.run.answer import read_answer
    from orchestrator.run.session import resume_run

    return resume_run(
        repo=_repo(args),
        plan_path=args.plan,
        run_id=args.run_id,
        rebuild=args.rebuild,
        settings=_settings(args),
        config_file=args.config,
        answer=read_answer(args.answer, args.answer_file),
    )


def _cmd_status(args: argparse.Namespace) -> int:
    from orchestrator.commands.status import show_status

    plan = _plan_arg(args) if args.plan is not None else None
    return show_status(repo=_repo(args), plan_path=plan, as_json=args.json, show_all=args.show_all)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from orchestrator.commands.doctor import run_doctor

    return run_doctor(
        repo=_repo(args), plan_path=args.plan, settings=_settings(args), as_json=args.json
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from orchestrator.demo import run_demo

    return run_demo(directory=args.keep, settings=_settings(args))


def _cmd_model_server(args: argparse.Namespace) -> int:
    from orchestrator.testing.server import serve_command

    return serve_command(scenario_path=args.scenario, codex_home=args.codex_home)


def _cmd_completion(args: argparse.Namespace) -> int:
    from orchestrator.commands.completion import completion_command

    return completion_command(args.shell, _build_parser())


def _cmd_logs(args: argparse.Namespace) -> int:
    from orchestrator.commands.follow import follow_logs

    return follow_logs(_repo(args), args.run_id, follow=args.follow, as_json=args.json)


def _cmd_runs(args: argparse.Namespace) -> int:
    from orchestrator.commands import runs

    if args.runs_action == "show":
        return runs.show_run_command(_repo(args), args.run_id)
    if args.runs_action == "prune":
        return runs.prune_runs_command(_repo(args), keep=args.keep, dry_run=args.dry_run)
    return runs.list_runs_command(_repo(args))


def _cmd_rehearse(args: argparse.Namespace) -> int:
    from orchestrator.commands.rehearse import rehearse

    return rehearse(
        repo=_repo(args),
        plan_path=args.plan,
        scenario_path=args.scenario,
        keep=args.keep,
        settings=_settings(args),
    )


def _cmd_init(args: argparse.Namespace) -> int:
    from orchestrator.commands.init import init_project

    directory: Path | None = args.directory
    if directory is None:
        directory = args.repo if args.repo is not None else Path()
    elif args.repo is not None and not directory.is_absolute():
        directory = args.repo / directory
    return init_project(directory=directory)


def _cmd_config(args: argparse.Namespace) -> int:
    from orchestrator.settings.loader import show_config

    flags = _flags(args)
    return show_config(
        repo=_repo(args),
        config_file=args.config,
        env=os.environ,
        flags=flags,
        flag_names=_flag_names() if flags else None,
        as_json=args.json,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the process exit code (see ``orchestrator.errors``)."""
    from orchestrator.ui import console

    parser = _build_parser()
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
