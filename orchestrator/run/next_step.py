"""The exact command to run next after a run stopped, for every place a stop is shown.

The console summary, ``--quiet`` output, ``status``, report.md and NEEDS_HUMAN.md all
end with :func:`next_step`, so a person (or a cron mail) always knows what to type.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.store.state import RunState

NEEDS_HUMAN_FILE = "NEEDS_HUMAN.md"


def _base(repo: Path | None) -> str:
    return "orchestrator" + (f" -C {shlex.quote(str(repo))}" if repo is not None else "")


def answer_command(state: RunState, repo: Path | None = None) -> str:
    """The command that answers a run's question and continues it."""
    return f'{_base(repo)} resume {shlex.quote(state.plan_path)} --answer "YOUR ANSWER"'


def next_command(state: RunState, repo: Path | None = None) -> str | None:
    """The command that continues ``state``'s run, or None when it passed."""
    if state.status == "passed":
        return None
    if state.status == "needs_human":
        return answer_command(state, repo)
    return f"{_base(repo)} run {shlex.quote(state.plan_path)}"


def next_step(state: RunState, repo: Path | None = None, run_dir: Path | None = None) -> str:
    """One sentence: what to do next, ending with the exact command."""
    plan = shlex.quote(state.plan_path)
    command = next_command(state, repo)
    if command is None:
        return (
            f"Next: nothing; the plan is done (the same `{_base(repo)} run {plan}` line "
            f"reports that and changes nothing; `{_base(repo)} run --fresh {plan}` starts over)."
        )
    if state.status == "needs_human":
        where = f" {run_dir / NEEDS_HUMAN_FILE}" if run_dir is not None else " NEEDS_HUMAN.md"
        return (
            f"Next: read{where}, fix or decide, then run: {command} "
            f"(or `{_base(repo)} resume {plan}` without an answer)"
        )
    why = {
        "budget": "when the budget allows (e.g. next night)",
        "usage_limit": "after the usage limit resets",
        "unavailable": "when the service is back",
        "setup": "after fixing the setup problem above",
        "failed": "after fixing the cause above",
        "interrupted": "to continue",
        "running": "to continue (if its process is gone)",
    }.get(state.status, "to continue")
    return f"Next, {why}: {command}"
