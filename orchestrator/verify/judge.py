"""The verdict of one check: its exit code, and what its tests really did.

A check passes only when it exited 0 and none of these holds: the output of a
known runner reports failures; the counted tests include failures or errors;
tests were counted but none ran; pytest was invoked but no session reported
to us (a replaced ``pytest``); fewer tests passed than at the checkpoint, or
more were skipped, expected to fail or deselected (unless the plan says the
milestone changes its tests).
"""

from __future__ import annotations

import re

from orchestrator.store.state import CheckRecord, CountedTests
from orchestrator.verify.counting import output_counts, output_reports_failure

_PYTEST_CMD = re.compile(r"(?:^|[\s/;&|(])(?:py\.test|pytest)(?:$|[\s;&|)])")


def invokes_pytest(command: str) -> bool:
    return _PYTEST_CMD.search(command) is not None


def _ran(c: CountedTests) -> int:
    return c.passed + c.failed + c.errors + c.xfailed


def judge(
    record: CheckRecord,
    pytest: CountedTests | None,
    *,
    baseline: CheckRecord | None,
    tests_may_change: bool,
) -> CheckRecord:
    """``record`` with its counted tests, verdict notes and final ``passed``."""
    output = record.output_tail
    counts = pytest or output_counts(output)
    notes: list[str] = []
    exited_ok = record.ended == "exited" and record.exit_code == 0
    failure_line = output_reports_failure(output)
    if exited_ok and failure_line:
        notes.append(f"the check exited 0 but its output reports failures: {failure_line}")
    if counts is not None:
        if counts.failed or counts.errors:
            notes.append(
                f"{counts.source} counted {counts.failed} failed and {counts.errors} errors"
            )
        if _ran(counts) == 0:
            notes.append(f"{counts.source} ran no test")
    base = baseline.tests if baseline is not None else None
    if pytest is None and (invokes_pytest(record.command) or (base and base.source == "pytest")):
        notes.append(
            "pytest ran no session the orchestrator could count (a replaced or bypassed pytest?)"
        )
    if counts is not None and base is not None and not tests_may_change:
        if counts.passed < base.passed:
            notes.append(
                f"fewer tests passed than at the checkpoint ({counts.passed} < {base.passed})"
            )
        for what in ("skipped", "xfailed", "deselected"):
            now, before = getattr(counts, what), getattr(base, what)
            if now > before:
                notes.append(f"more tests {what} than at the checkpoint ({now} > {before})")
    passed = exited_ok and not notes
    return record.model_copy(update={"tests": counts, "notes": notes, "passed": passed})
