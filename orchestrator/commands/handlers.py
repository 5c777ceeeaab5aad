"""One handler per subcommand: turn the parsed arguments into one core call.

Each handler imports its core function when it runs, so ``orchestrator --help``
and early exits stay fast. Handlers decide nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.commands.flags import flag_names
from orchestrator.errors import UsageError

if TYPE_CHECKING:
    from orchestrator.run.head_start import HeadStart
    from orchestrator.settings.model import Settings


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


def _load_settings(args: argparse.Namespace) -> Settings:
    from orchestrator.settings.loader import load_settings

    flags = _flags(args)
    return load_settings(
        repo=_repo(args),
        config_file=args.config,
        env=os.environ,
        flags=flags,
        flag_names=flag_names() if flags else None,
    )


def _settings(args: argparse.Namespace) -> Settings:
    from orchestrator.ui.logs import configure_logging

    settings = _load_settings(args)
    configure_logging(settings.log)
    return settings


@contextlib.contextmanager
def _settings_ahead(
    args: argparse.Namespace, *, probes: bool
) -> Iterator[tuple[Settings, HeadStart | None]]:
    """The settings, with a run's slow probes (codex's version, its sandbox) started at
    once when ``probes``: they run while the run machinery loads and are stopped when
    the command ends (:mod:`orchestrator.run.head_start`); then logging is set up.

    Logging (structlog, rich) is imported only once the probes run: nothing before it
    logs, and its import then overlaps them instead of delaying them."""
    settings = _load_settings(args)
    if not probes:
        from orchestrator.ui.logs import configure_logging

        configure_logging(settings.log)
        yield settings, None
        return
    from orchestrator.run.head_start import HeadStart

    with HeadStart(settings, os.environ) as ahead:
        from orchestrator.ui.logs import configure_logging

        configure_logging(settings.log)
        yield settings, ahead


def _plan_arg(args: argparse.Namespace) -> Path:
    """PLAN as run and resume find it: under -C first, else relative to the current directory."""
    plan: Path = args.plan
    if plan.is_absolute() or args.repo is None:
        return plan
    under = _repo(args) / plan
    return under if under.exists() or not plan.exists() else plan


def cmd_adopt(args: argparse.Namespace) -> int:
    from orchestrator.commands.adopt import adopt_command

    return adopt_command(
        path=_plan_arg(args),
        write=args.write,
        as_json=args.json,
        codex_settings=_settings(args) if args.with_codex else None,
    )


def cmd_check(args: argparse.Namespace) -> int:
    from orchestrator.plan.lint import check_command

    settings = _settings(args)
    return check_command(
        path=_plan_arg(args), as_json=args.json, config_checks=settings.checks.commands
    )


def cmd_run(args: argparse.Namespace) -> int:
    from orchestrator.run.early import check_run

    plans: list[Path] = args.plan
    check_run(
        repo=_repo(args),
        plans=plans,
        parallel=args.parallel,
        dry_run=args.dry_run,
        config_file=args.config,
        env=os.environ,
        flags=_flags(args),
        load_settings=lambda: _load_settings(args),
    )
    if len(plans) > 1 or args.parallel is not None:
        return cmd_run_parallel(args, plans)
    with _settings_ahead(args, probes=not args.dry_run) as (settings, ahead):
        from orchestrator.run.selection import Selection
        from orchestrator.run.session import start_run

        return start_run(
            repo=_repo(args),
            plan_path=plans[0],
            settings=settings,
            fresh=args.fresh,
            config_file=args.config,
            selection=Selection(only=args.only, start=args.start, until=args.until, redo=args.redo),
            dry_run=args.dry_run,
            accept_changes=args.accept_changes,
            ahead=ahead,
        )


def cmd_run_parallel(args: argparse.Namespace, plans: list[Path]) -> int:
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
        parallel=len(plans) if args.parallel is None else args.parallel,
        flags=_flags(args),
        token_budget=settings.run.max_tokens,
        live=live_enabled(settings.log),
        quiet=settings.log.quiet,
    )


def cmd_resume(args: argparse.Namespace) -> int:
    from orchestrator.run.early import check_resume

    check_resume(
        repo=_repo(args),
        plan_path=args.plan,
        run_id=args.run_id,
        rebuild=args.rebuild,
        answer_given=args.answer is not None or args.answer_file is not None,
        config_file=args.config,
        env=os.environ,
        flags=_flags(args),
        load_settings=lambda: _load_settings(args),
    )
    from orchestrator.run.answer import read_answer

    with _settings_ahead(args, probes=True) as (settings, ahead):
        answer = read_answer(args.answer, args.answer_file)
        from orchestrator.run.session import resume_run

        return resume_run(
            repo=_repo(args),
            plan_path=args.plan,
            run_id=args.run_id,
            rebuild=args.rebuild,
            settings=settings,
            config_file=args.config,
            answer=answer,
            accept_changes=args.accept_changes,
            ahead=ahead,
        )


def cmd_status(args: argparse.Namespace) -> int:
    from orchestrator.commands.status import show_status

    plan = _plan_arg(args) if args.plan is not None else None
    return show_status(repo=_repo(args), plan_path=plan, as_json=args.json, show_all=args.show_all)


def cmd_doctor(args: argparse.Namespace) -> int:
    from orchestrator.commands.doctor import run_doctor

    return run_doctor(
        repo=_repo(args), plan_path=args.plan, settings=_settings(args), as_json=args.json
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestrator.demo import run_demo

    return run_demo(directory=args.keep, settings=_settings(args))


def cmd_model_server(args: argparse.Namespace) -> int:
    from orchestrator.testing.server import serve_command

    return serve_command(scenario_path=args.scenario, codex_home=args.codex_home)


def cmd_completion(
    args: argparse.Namespace, *, parser: Callable[[], argparse.ArgumentParser]
) -> int:
    from orchestrator.commands.completion import completion_command

    return completion_command(args.shell, parser())


def cmd_logs(args: argparse.Namespace) -> int:
    from orchestrator.commands.follow import follow_logs

    return follow_logs(_repo(args), args.run_id, follow=args.follow, as_json=args.json)


def cmd_runs(args: argparse.Namespace) -> int:
    from orchestrator.commands import runs

    if args.runs_action == "show":
        return runs.show_run_command(_repo(args), args.run_id)
    if args.runs_action == "prune":
        return runs.prune_runs_command(_repo(args), keep=args.keep, dry_run=args.dry_run)
    return runs.list_runs_command(_repo(args))


def cmd_rehearse(args: argparse.Namespace) -> int:
    from orchestrator.commands.rehearse import rehearse

    return rehearse(
        repo=_repo(args),
        plan_path=args.plan,
        scenario_path=args.scenario,
        keep=args.keep,
        settings=_settings(args),
    )


def cmd_init(args: argparse.Namespace) -> int:
    from orchestrator.commands.init import init_project

    directory: Path | None = args.directory
    if directory is None:
        directory = args.repo if args.repo is not None else Path()
    elif args.repo is not None and not directory.is_absolute():
        directory = args.repo / directory
    return init_project(directory=directory)


def cmd_config(args: argparse.Namespace) -> int:
    from orchestrator.settings.loader import show_config

    flags = _flags(args)
    return show_config(
        repo=_repo(args),
        config_file=args.config,
        env=os.environ,
        flags=flags,
        flag_names=flag_names() if flags else None,
        as_json=args.json,
    )
