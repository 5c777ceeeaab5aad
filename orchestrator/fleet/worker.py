"""``orchestrator worker``: host the plan workflow and the activities of this host.

One process polls two task queues: the shared one (workflows, and the claim
that ties a new plan to a host) and this host's own (``<queue>@<host id>``),
where every run of a plan claimed here goes. A worker restarted with the same
host id picks up what its predecessor left: the work trees stay in
``--workdir``.
"""

from __future__ import annotations

import socket
from pathlib import Path

import anyio
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from orchestrator.errors import UsageError
from orchestrator.fleet.activities import FleetActivities
from orchestrator.fleet.workflow import PlanWorkflow
from orchestrator.ui import console

log = structlog.get_logger()


def host_queue(task_queue: str, host_id: str | None) -> str:
    return f"{task_queue}@{host_id or socket.gethostname()}"


async def connect(address: str) -> Client:
    try:
        return await Client.connect(address)
    except Exception as exc:  # the SDK raises its own RuntimeError subclasses
        raise UsageError(
            f"cannot reach the Temporal server at {address} ({exc}). Start one (for a trial: "
            "`temporal server start-dev`) or pass its HOST:PORT with --temporal."
        ) from None


async def _serve(address: str, task_queue: str, host_id: str | None, workdir: Path) -> None:
    client = await connect(address)
    mine = host_queue(task_queue, host_id)
    acts = FleetActivities(mine, workdir)
    shared = Worker(
        client, task_queue=task_queue, workflows=[PlanWorkflow], activities=[acts.claim_host]
    )
    own = Worker(client, task_queue=mine, activities=[acts.run_plan])
    console.out(f"worker on {address}: queues {task_queue} and {mine}; trees in {workdir}")
    log.info("fleet_worker_started", address=address, queue=task_queue, host_queue=mine)
    async with anyio.create_task_group() as tg:
        tg.start_soon(shared.run)
        tg.start_soon(own.run)


def run_worker(*, address: str, task_queue: str, host_id: str | None, workdir: Path) -> int:
    """Serve until interrupted; returns the exit code."""
    workdir.mkdir(parents=True, exist_ok=True)
    anyio.run(_serve, address, task_queue, host_id, workdir.resolve())
    return 0
