"""The fleet's subcommands: ``worker``, ``submit`` and ``fleet status|answer``.

They need the optional ``fleet`` extra (``pip install 'orchestrator[fleet]'``:
the Temporal SDK and CLI); without it each says so and exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.errors import OrchestratorError, UsageError
from orchestrator.ui import console

Sub = Callable[[Any, str, str, str], argparse.ArgumentParser]

_WORKER_TEXT = """\
Hosts the plan workflow and runs plans claimed by this host, each in a clone under
--workdir. Start one per machine (same --host-id after a restart, so it takes over the
trees its predecessor left). codex runs with this process's environment and credentials."""
_SUBMIT_TEXT = """\
Starts the workflow of (repository, plan), or finds the one already running: submitting
twice is harmless, and submitting a plan whose workflow ended (budget, a stop) continues
it. Prints the workflow id. The result is pushed to the repository as --branch."""
_FLEET_TEXT = """\
`fleet status` lists every plan workflow with its state, current milestone and the next
step; `fleet answer ID TEXT` gives a plan that stopped for a human its answer."""


def _address(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--temporal", required=True, metavar="HOST:PORT", help="the Temporal server's address"
    )


def add_commands(sub: Any, make: Sub) -> None:
    """Add the fleet's subcommands to the top-level parser's ``sub``."""
    p = make(sub, "worker", "serve plans from a Temporal server on this host", _WORKER_TEXT)
    _address(p)
    p.add_argument("--task-queue", default="orchestrator", metavar="Q", help="shared queue")
    p.add_argument("--host-id", metavar="ID", help="this host's name (default: hostname)")
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path("orchestrator-fleet"),
        metavar="DIR",
        help="where this host keeps its work trees (default: ./orchestrator-fleet)",
    )
    p.set_defaults(handler=_worker)

    # Not `make`: `--repo` here names the repository to clone, not the global -C/--repo.
    p = sub.add_parser(
        "submit",
        help="run a plan of a repository on the fleet",
        description=f"Run a plan of a repository on the fleet.\n\n{_SUBMIT_TEXT}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _address(p)
    p.add_argument(
        "--repo", dest="fleet_repo", required=True, metavar="URL_OR_PATH",
        help="the repository workers clone (a URL, or a path on a shared disk)",
    )  # fmt: skip
    p.add_argument("--plan", required=True, metavar="PATH", help="plan path in the repository")
    p.add_argument("--branch", metavar="B", help="result branch (default: orchestrator/<plan>)")
    p.add_argument("--task-queue", default="orchestrator", metavar="Q", help="shared queue")
    p.add_argument(
        "--heartbeat", type=float, default=60.0, metavar="S", help="seconds before a silent "
        "worker's run is given to a new worker (default 60)"
    )  # fmt: skip
    p.set_defaults(handler=_submit)

    p = make(sub, "fleet", "the plans on a Temporal server", _FLEET_TEXT)
    actions = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    s = actions.add_parser("status", help="list plan workflows")
    _address(s)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(handler=_status)
    a = actions.add_parser("answer", help="answer a plan that needs a human")
    _address(a)
    a.add_argument("workflow_id", metavar="ID")
    a.add_argument("text", metavar="TEXT")
    a.set_defaults(handler=_answer)


def _client_command(
    run: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """End a short-lived client command with ``os._exit`` once its output is flushed.

    The Temporal SDK's Rust runtime keeps threads that can abort the interpreter while it
    finalizes ("PyGILState_Release: thread state ... must be current"), turning a finished
    command into exit 134. Skipping finalization is the SDK maintainers' advice for short
    client processes; errors are printed first, as the CLI's boundary would.
    """

    def wrapped(args: argparse.Namespace) -> int:
        try:
            code = run(args)
        except OrchestratorError as exc:
            console.err(f"orchestrator: {exc.message}")
            code = int(exc.exit_code)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    return wrapped


def _need_extra() -> None:
    try:
        import temporalio  # noqa: F401
    except ImportError:
        raise UsageError(
            "the fleet needs the Temporal SDK: install the extra with "
            "`pip install 'orchestrator[fleet]'` (the dev install has it)"
        ) from None


def _worker(args: argparse.Namespace) -> int:
    _need_extra()
    from orchestrator.fleet.worker import run_worker

    return run_worker(
        address=args.temporal,
        task_queue=args.task_queue,
        host_id=args.host_id,
        workdir=args.workdir,
    )


@_client_command
def _submit(args: argparse.Namespace) -> int:
    _need_extra()
    from orchestrator.fleet.client import submit

    return submit(
        address=args.temporal,
        repo=args.fleet_repo,
        plan=args.plan,
        branch=args.branch,
        task_queue=args.task_queue,
        heartbeat_s=args.heartbeat,
    )


@_client_command
def _status(args: argparse.Namespace) -> int:
    _need_extra()
    from orchestrator.fleet.client import status

    return status(address=args.temporal, as_json=args.json)


@_client_command
def _answer(args: argparse.Namespace) -> int:
    _need_extra()
    from orchestrator.fleet.client import answer

    return answer(address=args.temporal, wid=args.workflow_id, text=args.text)
