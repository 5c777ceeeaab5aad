"""What a person reads after a run: ``report.md`` and, when needed, ``NEEDS_HUMAN.md``.

Both are rendered from the run state alone (plus the stop's question), so a
report can be written after any ending, including an interrupt.
"""

from __future__ import annotations

import time
from pathlib import Path

from orchestrator.run.next_step import NEEDS_HUMAN_FILE, answer_command, next_step
from orchestrator.store.atomic import atomic_write
from orchestrator.store.state import CheckRecord, Finding, MilestoneState, RunState
from orchestrator.ui.text import one_line, tokens_spent

REPORT_FILE = "report.md"
__all__ = ["NEEDS_HUMAN_FILE", "REPORT_FILE", "render_report", "write_needs_human", "write_report"]


def _repo_of(run_dir: Path) -> Path | None:
    """The repository of a run directory (``<repo>/.agent/runs/<id>``)."""
    parents = run_dir.resolve().parents
    return parents[2] if len(parents) > 2 else None


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))


def _secs(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "-"
    return f"{end - start:.1f}s"


def _cell(text: str | None, limit: int = 120) -> str:
    return one_line((text or "").replace("|", "\\|"), limit, newline=" ")


def _finding(f: Finding) -> str:
    return f"- {f.line(markdown=True)}"


def _checks(records: list[CheckRecord]) -> list[str]:
    lines = ["| check | command | result | exit | time |", "|---|---|---|---|---|"]
    for c in records:
        result = "pass" if c.passed else f"FAIL ({c.ended})"
        lines.append(
            f"| {c.check_id} | `{_cell(c.command, 60)}` | {result} | {c.exit_code} "
            f"| {c.duration_s:.1f}s |"
        )
    for c in records:
        if not c.passed and c.output_tail.strip():
            lines += ["", f"Output of failing check {c.check_id} (tail):", "", "```"]
            lines += [c.output_tail.rstrip().replace("```", "'''"), "```"]
    return lines


def _milestone(ms: MilestoneState) -> list[str]:
    lines = [
        f"## Milestone {ms.id}: {ms.title} ({ms.status})",
        "",
        f"- Attempts: {ms.attempts_made} (implement + {ms.attempts} repairs)",
        f"- Commit: {ms.commit or '-'}",
        f"- Tokens: {ms.tokens}",
        f"- Duration: {_secs(ms.started_at, ms.ended_at)}",
    ]
    if ms.thread_id:
        lines.append(f"- Codex thread: {ms.thread_id}")
    if ms.stop_reason:
        lines.append(f"- Stopped: {ms.stop_reason}")
    if ms.skip_reason:
        lines.append(f"- Skipped: {ms.skip_reason}")
    lines += _verification(ms)
    if ms.steps:
        lines += ["", "| # | step | attempt | outcome | tokens | time | summary |"]
        lines.append("|---|---|---|---|---|---|---|")
        for i, s in enumerate(ms.steps, 1):
            lines.append(
                f"| {i} | {s.kind} | {s.attempt + 1} | {s.label or '-'} | {s.tokens} "
                f"| {_secs(s.started_at, s.ended_at)} | {_cell(s.summary)} |"
            )
    if ms.last_checks:
        lines += ["", "Last validation:", "", *_checks(ms.last_checks)]
    if ms.findings:
        lines += ["", "Open findings:", "", *(_finding(f) for f in ms.findings)]
    return [*lines, ""]


def _verification(ms: MilestoneState) -> list[str]:
    """What verification found that a person should know (see docs/verification.md)."""
    facts = ms.verify
    if facts is None:
        return []
    lines = []
    if facts.baseline and all(b.passed for b in facts.baseline):
        lines.append(
            "- Verification: every check already passed at the checkpoint, before any work; "
            "passing them proves nothing about this milestone"
        )
    if facts.sandboxed is False:
        lines.append("- Verification: the checks ran without codex's sandbox")
    if facts.weakening:
        lines.append("- Weakening analysis: " + "; ".join(facts.weakening))
    return lines


def render_report(
    state: RunState, *, exit_code: int, repo: Path | None = None, run_dir: Path | None = None
) -> str:
    """The whole ``report.md`` text; it ends with the command to run next."""
    passed = sum(1 for m in state.milestones if m.status == "passed")
    skipped = sum(1 for m in state.milestones if m.status == "skipped")
    lines = [
        f"# Run {state.run_id}: {state.plan_path}",
        "",
        f"- Status: **{state.status}** (exit code {exit_code})",
    ]
    if state.stop_reason:
        lines.append(f"- Reason: {state.stop_reason}")
    lines += [
        f"- Milestones passed: {passed} of {len(state.milestones)}"
        + (f" ({skipped} skipped)" if skipped else ""),
        f"- Started: {_when(state.created_at)}; ended: {_when(state.ended_at)}",
        f"- Total time: {_secs(state.created_at, state.ended_at)}",
        f"- Tokens: {tokens_spent(state)}",
    ]
    if state.resets_at is not None and state.status == "usage_limit":
        lines.append(f"- Usage limit resets: {_when(state.resets_at)}")
    if state.branch:
        lines.append(f"- Branch: {state.branch}")
    if state.base_commit:
        lines.append(f"- Base commit: {state.base_commit}")
    lines.append("")
    for ms in state.milestones:
        lines += _milestone(ms)
    lines += ["## Next step", "", next_step(state, repo, run_dir), ""]
    return "\n".join(lines)


def write_report(run_dir: Path, state: RunState, *, exit_code: int) -> Path:
    """Write ``report.md`` atomically; returns its path."""
    path = run_dir / REPORT_FILE
    text = render_report(state, exit_code=exit_code, repo=_repo_of(run_dir), run_dir=run_dir)
    atomic_write(path, text.encode("utf-8"))
    return path


def render_needs_human(
    state: RunState,
    ms: MilestoneState,
    *,
    question: str | None,
    plan_arg: str,
    repo: Path | None = None,
    path: Path | None = None,
) -> str:
    lines = [
        f"# Needs a human: milestone {ms.id} ({ms.title})",
        "",
        f"Run {state.run_id} of `{state.plan_path}` stopped: "
        f"{ms.stop_reason or 'a person must decide'}.",
        "",
        "## Question",
        "",
        question or "(no question was asked; see the reason above and the findings below)",
        "",
    ]
    if ms.findings:
        lines += ["## Last findings", "", *(_finding(f) for f in ms.findings), ""]
    failing = [c for c in ms.last_checks if not c.passed]
    if failing:
        lines += ["## Failing checks", "", *_checks(failing), ""]
    answer = answer_command(state, repo)
    lines += [
        "## How to continue",
        "",
        "Answer the question (it is recorded in the plan's Decision Log and given to the",
        "agent), or make the change yourself (edit the code, or the plan between runs),",
        "then continue the run where it stopped. The work already in the tree is kept;",
        f"the milestone is validated again first. `orchestrator resume --run {state.run_id}`",
        f"names the run explicitly; `orchestrator run --fresh {plan_arg}` starts over instead.",
        "",
        f"This file: {path or NEEDS_HUMAN_FILE}",
        "",
        "Next step (replace YOUR ANSWER, or leave out --answer after fixing it yourself):",
        "",
        f"    {answer}",
        "",
    ]
    return "\n".join(lines)


def write_needs_human(
    run_dir: Path, state: RunState, ms: MilestoneState, *, question: str | None
) -> Path:
    path = run_dir / NEEDS_HUMAN_FILE
    text = render_needs_human(
        state, ms, question=question, plan_arg=state.plan_path, repo=_repo_of(run_dir), path=path
    )
    atomic_write(path, text.encode("utf-8"))
    return path
