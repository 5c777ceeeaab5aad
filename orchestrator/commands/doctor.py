"""``orchestrator doctor [PLAN]``: every preflight item with ok/FAIL and the fix.

The same items ``run`` and ``resume`` check before their first model request
(:mod:`orchestrator.run.preflight`); exit 0 when all are ok, 2 otherwise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestrator.errors import ExitCode
from orchestrator.run.preflight import Target, preflight
from orchestrator.settings.model import Settings
from orchestrator.store.state import find_unfinished
from orchestrator.ui import console


def _target(repo: Path, plan_path: Path | None) -> Target:
    repo = next((p for p in (repo, *repo.parents) if (p / ".git").exists()), repo)
    if plan_path is None:
        return Target(plan=None)
    candidates = [plan_path]
    if not plan_path.is_absolute():
        candidates = [repo / plan_path, Path.cwd() / plan_path]
    plan = next((p.resolve() for p in candidates if p.exists()), candidates[0].resolve())
    try:
        rel = plan.relative_to(repo).as_posix()
    except ValueError:
        return Target(plan=plan)
    unfinished = find_unfinished(repo, rel)
    if unfinished is None:
        return Target(plan=plan)
    return Target(plan=plan, new_run=False, pinned=unfinished.pinned_checks)


def run_doctor(*, repo: Path, plan_path: Path | None, settings: Settings, as_json: bool) -> int:
    """Print every preflight item; returns 0 when all are ok, else 2."""
    items = preflight(repo=repo, settings=settings, target=_target(repo, plan_path), env=os.environ)
    ok = all(i.ok for i in items)
    if as_json:
        console.out(json.dumps({"ok": ok, "items": [i.as_json() for i in items]}, indent=2))
    else:
        width = max(len(i.name) for i in items)
        for i in items:
            console.out(f"{'ok' if i.ok else 'FAIL':<4}  {i.name:<{width}}  {i.detail}")
            if i.fix and not i.ok:
                console.out(f"{'':<4}  {'':<{width}}  fix: {i.fix}")
        if plan_path is None:
            console.out("(give a PLAN to check the plan and its check programs too)")
        console.out("ready to run" if ok else "not ready: fix the items marked FAIL")
    return int(ExitCode.OK if ok else ExitCode.USAGE)
