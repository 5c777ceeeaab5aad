"""Command line: parse, dispatch to one core function, map errors to exit codes.

Nothing here decides anything. Imports of the core are lazy so that
``orchestrator --help`` and ``orchestrator status`` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator import __version__
from orchestrator.errors import EXIT_CODES, ExitCode, OrchestratorError

if TYPE_CHECKING:
    from orchestrator.settings.model import Settings

Handler = Callable[[argparse.Namespace], int]


def _exit_code_epilog() -> str:
    rows = "\n".join(f"  {int(code):>3}  {text}" for code, text in EXIT_CODES.items())
    return f"exit codes:\n{rows}"


def _add_settings_flags(p: argparse.ArgumentParser) -> None:
    """Flags that override settings (dotted keys in ``dest``)."""
    g = p.add_argument_group("settings (override config file and ORCH_* environment)")
    g.add_argument(
        "--allow-dirty",
        dest="run.allow_dirty",
        action="store_true",
        default=None,
        help="run even if the work tree has uncommitted changes",
    )
    g.add_argument(
        "--branch", dest="run.branch", metavar="NAME", help="create this branch and run on it"
    )
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
        help="wall-clock budget of the run, e.g. 90m, 6h",
    )
    g.add_argument(
        "--deadline",
        dest="run.deadline",
        metavar="HH:MM",
        help="no milestone starts after this local time",
    )
    g.add_argument(
        "--max-tokens", dest="run.max_tokens", type=int, metavar="N", help="token budget of the run"
    )
    g.add_argument(
        "--step-timeout",
        dest="codex.step_timeout",
        metavar="DURATION",
        help="wall-clock limit of one codex step",
    )
    g.add_argument(
        "--check-timeout",
        dest="checks.timeout",
        metavar="DURATION",
        help="limit of one validation command",
    )
    g.add_argument("--codex-bin", dest="codex.binary", metavar="PATH", help="codex executable")
    g.add_argument("--model", dest="codex.model", metavar="NAME", help="model passed to codex")
    g.add_argument(
        "--sandbox",
        dest="codex.sandbox",
        choices=["read-only", "workspace-write", "danger-full-access"],
        help="sandbox of implement/repair steps (default workspace-write)",
    )


def _add_common_flags(p: argparse.ArgumentParser, *, default: Any) -> None:
    """Flags accepted before and after the subcommand (``default=SUPPRESS`` on subcommands,
    so an absent flag there keeps the value given before it)."""
    p.add_argument(
        "-C",
        "--repo",
        type=Path,
        default=default,
        metavar="DIR",
        help="target repository (default: the current directory)",
    )
    p.add_argument(
        "--config",
        type=Path,
        default=default,
        metavar="FILE",
        help="config file (default: .agent/orchestrator.toml if present)",
    )
    p.add_argument(
        "--log-format",
        dest="log.format",
        choices=["auto", "console", "json"],
        default=default,
        help="console log format",
    )
    p.add_argument("-q", "--quiet", dest="log.quiet", action="store_true", default=default,
                   help="print nothing when the run finishes cleanly (for cron)")  # fmt: skip


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

    p = sub.add_parser("run", help="run an ExecPlan's milestones")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("plan", type=Path, metavar="PLAN")
    p.add_argument(
        "--fresh", action="store_true", help="start a new run even if an unfinished one exists"
    )
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("resume", help="continue the newest unfinished run")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("plan", type=Path, nargs="?", metavar="PLAN")
    p.add_argument("--run", dest="run_id", metavar="ID", help="resume this run id")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild a corrupt state file from git history and the plan",
    )
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_resume)

    p = sub.add_parser("status", help="show the runs of this repository")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("plan", type=Path, nargs="?", metavar="PLAN")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=_cmd_status)

    p = sub.add_parser("check", help="lint an ExecPlan and say whether it is runnable")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("plan", type=Path, metavar="PLAN")
    p.add_argument("--json", action="store_true", help="print the parsed plan as JSON")
    p.set_defaults(handler=_cmd_check)

    p = sub.add_parser("demo", help="run a sample plan offline on the real codex binary")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="create the demo repository here instead of a temporary directory",
    )
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("model-server", help="serve a scripted model for codex on 127.0.0.1")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument(
        "--codex-home",
        type=Path,
        default=None,
        metavar="DIR",
        help="prepare this CODEX_HOME (default: a new temporary directory)",
    )
    p.set_defaults(handler=_cmd_model_server)

    p = sub.add_parser("init", help="add PLANS.md, a plan template and a config")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("directory", type=Path, nargs="?", default=Path(), metavar="DIR")
    p.set_defaults(handler=_cmd_init)

    p = sub.add_parser("config", help="show the effective settings")
    _add_common_flags(p, default=argparse.SUPPRESS)
    p.add_argument("--show", action="store_true", help="print settings and their origins")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_settings_flags(p)
    p.set_defaults(handler=_cmd_config)
    return parser


def _repo(args: argparse.Namespace) -> Path:
    repo: Path | None = args.repo
    return (repo or Path.cwd()).resolve()


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


def _cmd_check(args: argparse.Namespace) -> int:
    from orchestrator.plan.lint import check_command

    return check_command(path=args.plan, as_json=args.json)


def _cmd_run(args: argparse.Namespace) -> int:
    from orchestrator.run.session import start_run

    return start_run(
        repo=_repo(args), plan_path=args.plan, settings=_settings(args), fresh=args.fresh
    )


def _cmd_resume(args: argparse.Namespace) -> int:
    from orchestrator.run.session import resume_run

    return resume_run(
        repo=_repo(args),
        plan_path=args.plan,
        run_id=args.run_id,
        rebuild=args.rebuild,
        settings=_settings(args),
    )


def _cmd_status(args: argparse.Namespace) -> int:
    from orchestrator.commands.status import show_status

    return show_status(repo=_repo(args), plan_path=args.plan, as_json=args.json)


def _cmd_demo(args: argparse.Namespace) -> int:
    from orchestrator.demo import run_demo

    return run_demo(directory=args.keep, settings=_settings(args))


def _cmd_model_server(args: argparse.Namespace) -> int:
    from orchestrator.testing.server import serve_command

    return serve_command(scenario_path=args.scenario, codex_home=args.codex_home)


def _cmd_init(args: argparse.Namespace) -> int:
    from orchestrator.commands.init import init_project

    return init_project(directory=args.directory)


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


def _crash_log(exc: BaseException) -> Path:
    fd, name = tempfile.mkstemp(prefix="orchestrator-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"orchestrator {__version__}\npython {sys.version}\nargv {sys.argv!r}\n\n")
        f.write("".join(traceback.format_exception(exc)))
    return Path(name)


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
    except OrchestratorError as exc:
        console.err(f"orchestrator: {exc.message}")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        console.err("orchestrator: interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        log = _crash_log(exc)
        console.err(f"orchestrator: internal error: {exc!r}; details in {log}")
        return int(ExitCode.INTERNAL)
