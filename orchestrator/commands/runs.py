"""``orchestrator runs``: the run directories of a repository, listed, shown and pruned.

``runs`` (or ``runs list``) prints one line per run, newest first; ``runs show
ID`` prints a run's report (or, while it has none, its status); ``runs prune``
removes old run directories: it keeps the ``--keep N`` newest runs of each plan
(default 1), and never touches the run that holds the repository lock nor a
directory whose state it cannot read. ``--dry-run`` says what it would remove.
Like ``status``, these read files only and take no lock.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from orchestrator.commands.status import newest_per_plan, show_status, shown_status
from orchestrator.errors import ExitCode, UsageError
from orchestrator.paths import RUNS_DIR
from orchestrator.store.lock import read_holder
from orchestrator.store.state import RunState, run_dir, scan_runs
from orchestrator.ui import console
from orchestrator.ui.report import REPORT_FILE


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return total


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def list_runs_command(repo: Path) -> int:
    """One line per run: id, plan, shown status, start, tokens, size on disk."""
    runs, errors = scan_runs(repo)
    holder = read_holder(repo)
    newer = newest_per_plan(runs)
    if not runs:
        console.out(f"no runs in {repo}")
    for run in runs:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at))
        status = shown_status(run, holder, newer[run.run_id]).split(" (")[0]
        size = _human(_size(run_dir(repo, run.run_id)))
        console.out(
            f"{run.run_id}  {started}  {status:<22}  {run.tokens_total:>10,} tokens  "
            f"{size:>9}  {run.plan_path}"
        )
    for exc in errors:
        console.err(f"orchestrator: {exc.message}")
    return int(ExitCode.OK)


def _find(repo: Path, run_id: str) -> RunState:
    runs, _ = scan_runs(repo)
    matches = [r for r in runs if r.run_id.startswith(run_id)]
    if len(matches) != 1:
        known = ", ".join(r.run_id for r in runs[:5]) or "none"
        what = "no run" if not matches else f"{len(matches)} runs"
        raise UsageError(
            f"{what} of {repo} matches {run_id!r}; `orchestrator runs` lists them (newest: {known})"
        )
    return matches[0]


def show_run_command(repo: Path, run_id: str) -> int:
    """A run's report.md, or its status while it has no report yet."""
    run = _find(repo, run_id)
    report = run_dir(repo, run.run_id) / REPORT_FILE
    if report.is_file():
        console.out(report.read_text(encoding="utf-8").rstrip())
        return int(ExitCode.OK)
    return show_status(repo=repo, plan_path=None, as_json=False, show_all=True, run_id=run.run_id)


def prune_runs_command(repo: Path, keep: int, dry_run: bool) -> int:
    """Remove all but the ``keep`` newest runs of each plan (never the live one)."""
    if keep < 1:
        raise UsageError("--keep must be at least 1: the newest run of a plan is never pruned")
    runs, errors = scan_runs(repo)
    holder = read_holder(repo)
    live = holder.run_id if holder is not None else None
    kept: dict[str, int] = {}
    doomed: list[RunState] = []
    for run in runs:  # newest first
        key = os.path.normpath(run.plan_path)
        kept[key] = kept.get(key, 0) + 1
        if kept[key] > keep and run.run_id != live:
            doomed.append(run)
    freed = 0
    for run in doomed:
        path = run_dir(repo, run.run_id)
        size = _size(path)
        freed += size
        verb = "would remove" if dry_run else "removed"
        if not dry_run:
            shutil.rmtree(path)
        console.out(f"{verb} {RUNS_DIR.as_posix()}/{run.run_id} ({run.status}, {_human(size)})")
    left = len(runs) - len(doomed)
    total = "would free" if dry_run else "freed"
    console.out(f"{len(doomed)} runs {'to remove' if dry_run else 'removed'}, {left} kept; "
                f"{total} {_human(freed)}")  # fmt: skip
    for exc in errors:
        console.err(f"orchestrator: {exc.message} (left in place by prune)")
    return int(ExitCode.OK)
