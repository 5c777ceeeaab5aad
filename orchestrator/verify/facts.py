"""What the reviewer is told about verification: the facts, not the implementer's word.

The review prompt carries, from the milestone's :class:`VerifyFacts`: how the
checks ran (separate copy, sandbox), the baseline and the test-count deltas,
the protected files the change touched with their diff, the weakening
analysis, and the explicit question whether the change special-cases the
tested inputs.
"""

from __future__ import annotations

import re

from orchestrator.store.state import CheckRecord, CountedTests, MilestoneState

PROTECTED_DIFF_LIMIT = 12_000
_FILE_HEADER = re.compile(r"^diff --git a/(.+?) b/", re.M)


def _counts(c: CountedTests | None) -> str:
    if c is None:
        return "no tests counted"
    parts = [f"{c.passed} passed"]
    for name in ("failed", "errors", "skipped", "xfailed", "deselected"):
        value = getattr(c, name)
        if value:
            parts.append(f"{value} {name}")
    return f"{', '.join(parts)} ({c.source})"


def _baseline_lines(baseline: list[CheckRecord], now: list[CheckRecord]) -> list[str]:
    current = {r.check_id: r for r in now}
    lines = []
    for b in baseline:
        state = "passed" if b.passed else "failed"
        line = f"- {b.check_id}: at the checkpoint {state}, {_counts(b.tests)}"
        r = current.get(b.check_id)
        if r is not None:
            line += f"; now {'passed' if r.passed else 'failed'}, {_counts(r.tests)}"
        lines.append(line)
    return lines


def protected_diff(diff: str, paths: list[str]) -> str:
    """The parts of a unified ``diff`` that touch ``paths``."""
    wanted = set(paths)
    starts = [(m.start(), m.group(1)) for m in _FILE_HEADER.finditer(diff)]
    parts = []
    for i, (start, path) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(diff)
        if path in wanted:
            parts.append(diff[start:end])
    text = "".join(parts)
    if len(text) > PROTECTED_DIFF_LIMIT:
        text = text[:PROTECTED_DIFF_LIMIT] + f"\n... ({len(text) - PROTECTED_DIFF_LIMIT} more)"
    return text


def review_facts(ms: MilestoneState, diff: str) -> str:
    """The verification section of the review prompt."""
    facts = ms.verify
    if facts is None:
        return "(no verification facts: the checks ran in the work tree)"
    lines = []
    where = "under codex's sandbox" if facts.sandboxed else "WITHOUT a sandbox"
    lines.append(
        f"- The checks ran over a separate copy of the candidate tree, {where}, with the "
        "checkpoint's versions of the protected files (tests, fixtures, test configuration)."
    )
    if facts.baseline is not None:
        lines.append("- Test counts, at the checkpoint and now:")
        lines += ["  " + line for line in _baseline_lines(facts.baseline, ms.last_checks)]
        if facts.baseline and all(b.passed for b in facts.baseline):
            lines.append(
                "- WARNING: every check already passed at the checkpoint, before any work: "
                "passing them proves nothing about this milestone. Judge the change itself."
            )
    may = "says" if facts.tests_may_change else "does not say"
    lines.append(f"- The plan {may} that this milestone changes its tests.")
    if facts.changed_protected:
        lines.append(f"- Protected files the change touches: {', '.join(facts.changed_protected)}")
        part = protected_diff(diff, facts.changed_protected)
        if part:
            lines.append(f"  Their diff:\n\n```diff\n{part}```\n")
    else:
        lines.append("- The change touches no protected file.")
    if facts.weakening:
        lines.append("- Weakening analysis (deterministic) found:")
        lines += [f"  - {w}" for w in facts.weakening]
        if facts.tests_may_change:
            lines.append(
                "  Approve only if each of these is a deliberate change the plan asks for, and "
                'then say so with "weakening_approved": true; otherwise request changes.'
            )
    else:
        lines.append("- Weakening analysis: nothing found.")
    lines.append(
        "- Question you must answer in your review: does the change special-case the inputs "
        "the tests use (hard-coded expected values, branches on test data, detecting the test "
        "run) instead of implementing the behaviour? If it does, request changes."
    )
    return "\n".join(lines)
