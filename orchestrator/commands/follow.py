"""``orchestrator logs [ID] [-f]``: a run's progress as the console showed it, from any shell.

Reads ``.agent/runs/<id>/events.jsonl`` (the newest run's, unless an id or a
unique prefix is given) and prints the lines a person sees: progress,
warnings, errors, ``HH:MM:SS`` first, coloured on a terminal. ``--follow``
keeps reading as the run writes, and ends when the run finishes or its
process is gone. ``--json`` prints the records themselves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from orchestrator.commands.status import is_live
from orchestrator.errors import ExitCode, UsageError
from orchestrator.store.lock import read_holder
from orchestrator.store.state import RunState, load_state, run_dir, scan_runs, state_path
from orchestrator.ui import console

_POLL = 0.2


def _pick(repo: Path, run_id: str | None) -> RunState:
    runs, _ = scan_runs(repo)
    if run_id is None:
        if not runs:
            raise UsageError(f"no runs in {repo} yet: `orchestrator run PLAN` starts one")
        return runs[0]
    matches = [r for r in runs if r.run_id.startswith(run_id)]
    if len(matches) != 1:
        what = "no run" if not matches else f"{len(matches)} runs"
        raise UsageError(f"{what} of {repo} matches {run_id!r}; `orchestrator runs` lists them")
    return matches[0]


def _print(raw: str, *, as_json: bool, colors: bool) -> dict[str, Any] | None:
    from orchestrator.ui.logs import console_line

    try:
        record = json.loads(raw)
    except ValueError:
        return None  # a line being written: read again on the next poll
    if not isinstance(record, dict):
        return None
    if as_json:
        console.out(raw)
    elif (line := console_line(record, colors=colors)) is not None:
        console.out(line)
    return record


def _still_running(repo: Path, run_id: str) -> bool:
    try:
        state = load_state(state_path(repo, run_id))
    except Exception:
        return False
    return is_live(state, read_holder(repo))


def follow_logs(repo: Path, run_id: str | None, follow: bool, as_json: bool) -> int:
    """Print a run's progress lines; with ``follow`` until the run ends."""
    run = _pick(repo, run_id)
    path = run_dir(repo, run.run_id) / "events.jsonl"
    colors = console.colour_enabled(None) and not as_json
    if not as_json:
        console.out(f"run {run.run_id} of {run.plan_path} ({path})")
    while not path.exists():  # a run that has only just started
        if not follow or not _still_running(repo, run.run_id):
            return int(ExitCode.OK)
        time.sleep(_POLL)
    pending = ""
    with path.open(encoding="utf-8") as f:
        while True:
            chunk = f.read()
            pending += chunk
            *complete, pending = pending.split("\n")
            for raw in complete:
                record = _print(raw, as_json=as_json, colors=colors)
                if follow and record is not None and record.get("event") == "run_finished":
                    return int(ExitCode.OK)
            if not follow or (not chunk and not _still_running(repo, run.run_id)):
                return int(ExitCode.OK)
            if not chunk:
                time.sleep(_POLL)
