"""``orchestrator status``: the runs of a repository, read without taking the lock.

Reads only the state files, the lock file's holder info and the tail of each
run's ``events.jsonl``; starts no git process and imports neither GitPython,
rich nor anyio, so it answers in a fraction of a second, also while a run
is going on. A repository without runs is answered before the state models
(pydantic) are even imported.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ExitCode, StateError
from orchestrator.paths import existing_worktrees
from orchestrator.run.next_step import next_step
from orchestrator.settings.durations import format_duration
from orchestrator.store.lock import LockHolder, read_holder
from orchestrator.store.run_files import run_dir, same_plan, state_files
from orchestrator.ui import console
from orchestrator.ui.text import polled, tokens_spent

if TYPE_CHECKING:
    from orchestrator.store.state import MilestoneState, RunState

_TAIL_BYTES = 8192


def _last_event(path: Path) -> dict[str, Any] | None:
    """The last complete JSON line of an events log, or None."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _TAIL_BYTES))
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return record
    return None


_COMMAND_EVENTS = ("codex_command_started", "codex_command_polled", "codex_command_running")


def command_in_flight(event: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """The command codex is running, if the last record says one runs: command,
    elapsed_s (up to ``now``), polls. A long test run shows here as alive."""
    if event is None or event.get("event") not in _COMMAND_EVENTS:
        return None
    try:
        logged = datetime.fromisoformat(str(event.get("timestamp"))).timestamp()
        before = float(event.get("elapsed_s") or 0.0)
    except (TypeError, ValueError):
        return None
    polls = event.get("polls")
    return {
        "command": str(event.get("command") or ""),
        "elapsed_s": round(before + max(0.0, now - logged), 1),
        "polls": polls if isinstance(polls, int) else 0,
    }


def is_live(run: RunState, holder: LockHolder | None) -> bool:
    return (
        holder is not None
        and holder.pid == run.pid
        and holder.host == run.host
        and holder.run_id in (None, run.run_id)
    )


def shown_status(run: RunState, holder: LockHolder | None, newer: str | None = None) -> str:
    if is_live(run, holder):
        return run.status
    if newer is not None and run.status != "passed":
        was = "running" if run.status == "running" else run.status
        return f"superseded by run {newer} (this one stopped {was})"
    if run.status == "running":
        return "stopped (process gone; `orchestrator resume` continues it)"
    return run.status


def _scan(repo: Path) -> tuple[list[RunState], list[StateError]]:
    """:func:`~orchestrator.store.state.scan_runs`, loaded only when there is a run to read."""
    if not state_files(repo):
        return [], []
    from orchestrator.store.state import scan_runs

    return scan_runs(repo)


def _newest(repo: Path, plan_path: str | None = None) -> RunState | None:
    """:func:`~orchestrator.store.state.newest_run`, loaded only when there is a run."""
    if not state_files(repo):
        return None
    from orchestrator.store.state import newest_run

    return newest_run(repo, plan_path)


def newest_per_plan(runs: list[RunState]) -> dict[str, str | None]:
    """Run id -> the newer run of the same plan that supersedes it (None: the newest).

    ``runs`` is newest first, as :func:`_scan` returns them.
    """
    newest: dict[str, str] = {}
    out: dict[str, str | None] = {}
    for run in runs:
        key = os.path.normpath(run.plan_path)
        out[run.run_id] = newest.get(key)
        newest.setdefault(key, run.run_id)
    return out


def _elapsed(run: RunState, live: bool) -> float:
    end = time.time() if live else (run.ended_at or run.updated_at)
    return max(0.0, end - run.created_at)


def _current_step(m: MilestoneState) -> str:
    if not m.steps:
        return m.phase or ""
    step = m.steps[-1]
    state = "running" if step.ended_at is None else (step.label or "done")
    return f"{step.kind} attempt {step.attempt} ({state})"


def _run_json(
    repo: Path, run: RunState, holder: LockHolder | None, newer: str | None = None
) -> dict[str, Any]:
    live = is_live(run, holder)
    data = run.model_dump(mode="json")
    data["live"] = live
    data["superseded_by"] = newer
    data["shown_status"] = shown_status(run, holder, newer)
    data["elapsed_s"] = round(_elapsed(run, live), 3)
    data["run_dir"] = str(run_dir(repo, run.run_id))
    data["last_log_event"] = _last_event(run_dir(repo, run.run_id) / "events.jsonl")
    data["command_in_flight"] = (
        command_in_flight(data["last_log_event"], time.time()) if live else None
    )
    data["invocation_tokens"] = run.tokens_total - run.invocation_tokens_start
    data["next_step"] = None if live else next_step(run, repo, run_dir(repo, run.run_id))
    return data


def _print_run(
    repo: Path, run: RunState, holder: LockHolder | None, newer: str | None = None
) -> None:
    live = is_live(run, holder)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created_at))
    console.out(f"run {run.run_id}  plan {run.plan_path}")
    shown = shown_status(run, holder, newer)
    console.out(f"  status:   {shown}" + (f" (pid {run.pid})" if live else ""))
    if run.stop_reason:
        console.out(f"  reason:   {run.stop_reason}")
    console.out(f"  started:  {started}, elapsed {format_duration(_elapsed(run, live))}")
    console.out(f"  tokens:   {tokens_spent(run)}")
    if run.status == "usage_limit" and run.resets_at is not None:
        resets = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.resets_at))
        console.out(f"  resets:   usage limit resets at {resets}")
    event = _last_event(run_dir(repo, run.run_id) / "events.jsonl")
    if event is not None:
        console.out(f"  last log: {event.get('event', '?')} {event.get('timestamp', '')}".rstrip())
    running = command_in_flight(event, time.time()) if live else None
    if running is not None:
        polls = f", {polled(running['polls'])}" if running["polls"] else ""
        ran = format_duration(running["elapsed_s"])
        console.out(f"  command:  $ {running['command']}  running {ran}{polls}")
    width = max((len(m.id) for m in run.milestones), default=1)
    for m in run.milestones:
        mark = "*" if m.id == run.current_milestone and live else " "
        line = f" {mark} {m.id:<{width}}  {m.status:<11}  attempts {m.attempts_made}"
        if m.commit:
            line += f"  commit {m.commit[:10]}"
        elif m.status == "running" or m.id == run.current_milestone:
            line += f"  {_current_step(m)}"
        if m.stop_reason and m.status != "passed":
            line += f"  ({m.stop_reason})"
        if m.status == "skipped" and m.skip_reason:
            line += f"  ({m.skip_reason})"
        console.out(f"{line}  {m.title}".rstrip())
    if not live:
        console.out(f"  {next_step(run, repo, run_dir(repo, run.run_id))}")


def show_status(
    repo: Path,
    plan_path: Path | None,
    as_json: bool,
    show_all: bool = False,
    run_id: str | None = None,
) -> int:
    """Print the newest run of each plan of ``repo`` (of ``plan_path`` only, if given);
    with ``show_all`` every run, newest first, older ones marked as superseded; with
    ``run_id`` that run only."""
    runs, errors = _scan(repo)
    if plan_path is not None:
        wanted = _relative(repo, plan_path)
        runs = [r for r in runs if same_plan(r.plan_path, wanted)]
    newer = newest_per_plan(runs)
    if run_id is not None:
        runs = [r for r in runs if r.run_id == run_id]
    hidden = 0 if show_all else sum(1 for r in runs if newer[r.run_id] is not None)
    if not show_all:
        runs = [r for r in runs if newer[r.run_id] is None]
    holder = read_holder(repo)
    if as_json:
        payload = {
            "repo": str(repo),
            "lock": holder.as_dict() if holder else None,
            "runs": [_run_json(repo, r, holder, newer[r.run_id]) for r in runs],
            "older_runs_not_shown": hidden,
            "errors": [e.message for e in errors],
            "worktrees": _worktree_json(repo),
        }
        console.out(json.dumps(payload, indent=2))
        return int(ExitCode.OK)
    if holder is not None:
        console.out(f"lock held by {holder.describe()}")
    if not runs:
        scope = f" of {plan_path}" if plan_path is not None else ""
        console.out(f"no runs{scope} in {repo}")
    for i, run in enumerate(runs):
        if i:
            console.out()
        _print_run(repo, run, holder, newer[run.run_id])
    if hidden:
        console.out()
        console.out(f"({hidden} older runs not shown: `orchestrator status --all` lists them)")
    for exc in errors:
        console.err(f"orchestrator: {exc.message}")
    _worktree_runs(repo, plan_path)
    return int(ExitCode.OK)


def _worktree_json(repo: Path) -> list[dict[str, Any]]:
    out = []
    for tree in existing_worktrees(repo):
        run = _newest(tree)
        holder = read_holder(tree)
        out.append({"path": str(tree), "runs": [_run_json(tree, run, holder)] if run else []})
    return out


def _worktree_runs(repo: Path, plan_path: Path | None) -> None:
    """The newest run in each plan worktree of ``orchestrator run A B --parallel N``."""
    wanted = _relative(repo, plan_path) if plan_path is not None else None
    for tree in existing_worktrees(repo):
        run = _newest(tree, wanted)
        if run is not None:
            console.out()
            console.out(f"worktree {tree.relative_to(repo)} (branch orchestrator/{tree.name}):")
            _print_run(tree, run, read_holder(tree))


def _relative(repo: Path, plan_path: Path) -> str:
    path = plan_path if plan_path.is_absolute() else (Path.cwd() / plan_path)
    try:
        return os.path.normpath(path.resolve().relative_to(repo.resolve()))
    except ValueError:
        return os.path.normpath(plan_path)
