"""The orchestrator's own words in Outcomes & Retrospective at the end of a run.

The text goes into a block of its own (see :func:`orchestrator.plan.write_outcomes`);
what people wrote in the section stays, and a later run updates the block.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.milestone.agent_step import PlanKeeper
from orchestrator.plan import write_outcomes
from orchestrator.store.git import Repo
from orchestrator.store.state import MilestoneState, RunState
from orchestrator.ui.text import one_line


def _line(ms: MilestoneState, until: str | None, after_until: bool) -> str:
    name = f"Milestone {ms.id} ({ms.title})"
    if ms.status == "passed":
        commit = (ms.commit or "-")[:10]
        if not ms.steps:
            return f"- {name}: passed (found in git history, commit {commit})."
        said = [s.summary for s in ms.steps if s.kind in ("implement", "repair") and s.summary]
        tail = f" {one_line(said[-1], newline=' ')}" if said else ""
        return f"- {name}: passed, {ms.attempts_made} attempt(s), commit {commit}.{tail}"
    if ms.status == "skipped":
        return f"- {name}: skipped, {ms.skip_reason or 'not selected'}."
    if after_until:
        return f"- {name}: not run (after --until {until})."
    return f"- {name}: {ms.status}."


def outcomes_body(state: RunState) -> str:
    """What the run did with each milestone, and the tokens it used."""
    total = len(state.milestones)
    passed = [m for m in state.milestones if m.status == "passed"]
    skipped = [m for m in state.milestones if m.status == "skipped"]
    done = len(passed) + sum(1 for m in skipped if (m.skip_reason or "").startswith("marked"))
    if len(passed) == total:
        head = f"Run {state.run_id}: all {total} milestones passed."
    else:
        head = f"Run {state.run_id}: {len(passed)} of {total} milestones passed"
        head += f", {len(skipped)} skipped" if skipped else ""
        head += "." if done < total else f"; all {total} are done."
    lines = [head, ""]
    after = False
    for ms in state.milestones:
        lines.append(_line(ms, state.until, after))
        after = after or ms.id == state.until
    lines += ["", f"Tokens used: {state.tokens_total}."]
    return "\n".join(lines)


async def commit_outcomes(
    keeper: PlanKeeper, state: RunState, repo: Repo, refresh_refs: Callable[[], None]
) -> None:
    """Write this run's block into Outcomes & Retrospective and commit it (also after a
    kill between the two: a dirty tree at the end of a passed run is the plan's edit)."""
    if f"Run {state.run_id}:" not in keeper.text:
        body = outcomes_body(state)
        keeper.write(write_outcomes(keeper.text, body=body, when=datetime.now(UTC)))
    if await repo.call(repo.is_dirty):  # also after a kill before the commit
        stem = Path(state.plan_path).stem
        await repo.write(
            repo.commit_all,
            f"{stem}: outcomes and retrospective",
            {"ExecPlan": state.plan_path},
        )
        await repo.call(refresh_refs)
