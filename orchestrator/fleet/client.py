"""``orchestrator submit`` and ``orchestrator fleet status|answer``: talk to the fleet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from orchestrator.errors import ExitCode, UsageError
from orchestrator.fleet.contract import (
    ANSWER_SIGNAL,
    DEFAULT_TASK_QUEUE,
    PROGRESS_QUERY,
    WORKFLOW_NAME,
    PlanInput,
    Progress,
    branch_for,
    workflow_id,
)
from orchestrator.fleet.worker import connect
from orchestrator.ui import console


def _repo_url(repo: str) -> str:
    """A local path becomes absolute (workers clone it); URLs stay as they are."""
    if "://" in repo or repo.startswith("git@"):
        return repo
    path = Path(repo).expanduser().resolve()
    if not path.exists():
        raise UsageError(f"the repository {repo} does not exist; pass a clone URL or a path")
    return str(path)


async def _submit(address: str, plan: PlanInput) -> str:
    client = await connect(address)
    wid = workflow_id(plan.repo, plan.plan)
    await client.start_workflow(
        WORKFLOW_NAME,
        plan,
        id=wid,
        task_queue=plan.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    return wid


def submit(
    *,
    address: str,
    repo: str,
    plan: str,
    branch: str | None,
    task_queue: str = DEFAULT_TASK_QUEUE,
    heartbeat_s: float = 60.0,
) -> int:
    """Start (or find) the workflow of (repo, plan); prints its id."""
    url = _repo_url(repo)
    spec = PlanInput(url, plan, branch or branch_for(plan), task_queue, heartbeat_s)
    wid = anyio.run(_submit, address, spec)
    console.out(wid)
    return int(ExitCode.OK)


async def _answer(address: str, wid: str, text: str) -> None:
    client = await connect(address)
    try:
        await client.get_workflow_handle(wid).signal(ANSWER_SIGNAL, text)
    except RPCError as exc:
        raise UsageError(f"no running plan {wid} on {address} ({exc.message})") from None


def answer(*, address: str, wid: str, text: str) -> int:
    """Give a plan that stopped for a human its answer; it continues."""
    anyio.run(_answer, address, wid, text)
    console.out(f"answered {wid}")
    return int(ExitCode.OK)


async def _rows(client: Client) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async for wf in client.list_workflows(f"WorkflowType = '{WORKFLOW_NAME}'"):
        row: dict[str, Any] = {"id": wf.id, "status": wf.status.name if wf.status else "?"}
        handle = client.get_workflow_handle(wf.id, run_id=wf.run_id)
        if wf.status == WorkflowExecutionStatus.RUNNING:
            progress = await handle.query(PROGRESS_QUERY, result_type=Progress)
            row.update(state=progress.state, next=progress.next_step)
            detail = await _heartbeat_detail(handle)
            row["milestone"] = detail.get("milestone") or (
                progress.last.milestone if progress.last else None
            )
        elif wf.status == WorkflowExecutionStatus.COMPLETED:
            result = await handle.result()
            row.update(state=result.get("status"), milestone=result.get("milestone"))
            row["next"] = "done" if result.get("status") == "passed" else "submit again"
        rows.append(row)
    return rows


async def _heartbeat_detail(handle: Any) -> dict[str, Any]:
    desc = await handle.describe()
    for pending in desc.raw_description.pending_activities:
        payloads = pending.heartbeat_details.payloads
        if payloads:
            try:
                value = json.loads(payloads[-1].data)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return {}


async def _status(address: str) -> list[dict[str, Any]]:
    return await _rows(await connect(address))


def status(*, address: str, as_json: bool) -> int:
    """Every plan workflow with its state, current milestone and next step."""
    rows = anyio.run(_status, address)
    if as_json:
        console.out(json.dumps(rows, indent=2))
        return int(ExitCode.OK)
    if not rows:
        console.out(f"no plans on {address}")
    for row in rows:
        console.out(
            f"{row['id']}  {row.get('state') or row['status']}  "
            f"milestone {row.get('milestone') or '-'}  next: {row.get('next', '-')}"
        )
    return int(ExitCode.OK)
