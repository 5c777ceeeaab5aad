from __future__ import annotations

from orchestrator.ui.events import ProgressEvent
from orchestrator.ui.lines import progress_line


def test_every_progress_event_but_retries_has_a_line() -> None:
    for event in ProgressEvent:
        line = progress_line({"event": event.value})
        if event is ProgressEvent.STEP_RETRY:
            assert line is None  # a warning: rendered with all its fields
        else:
            assert line


def test_lines_say_what_happened() -> None:
    assert (
        progress_line({"event": "checks_finished", "passed": 1, "failed": ["2.1", "plan.1"]})
        == "  checks: 1 passed, failed: 2.1, plan.1"
    )
    assert progress_line({"event": "checks_finished", "passed": 3, "failed": []}) == (
        "  checks: all 3 passed"
    )
    assert (
        progress_line(
            {"event": "codex_command", "command": "cat > f <<'EOF'\nline\nEOF", "exit_code": 0}
        )
        == "    $ cat > f <<'EOF' ⏎ line ⏎ EOF  (exit 0)"
    )
    assert progress_line(
        {"event": "milestone_finished", "milestone": "2", "status": "passed",
         "commit": "0123456789abcdef"}
    ) == "milestone 2 passed, commit 0123456789"  # fmt: skip
    assert progress_line(
        {"event": "run_finished", "status": "gave_up", "exit_code": 4, "duration_s": 12.34,
         "tokens_total": 900, "reason": "milestone 1: stalled"}
    ) == "run gave_up (exit 4) in 12.3s, 900 tokens: milestone 1: stalled"  # fmt: skip
    assert progress_line(
        {"event": "run_started", "run_id": "r1", "plan": "p.md",
         "milestones": [{"id": "1", "status": "passed"}, {"id": "2", "status": "pending"}]}
    ) == "run r1: p.md, 2 milestones, 1 already passed"  # fmt: skip


def test_other_records_have_no_line() -> None:
    assert progress_line({"event": "process_finished", "pid": 1}) is None
