from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.settings.model import LogSettings
from orchestrator.ui.live import final_summary, live_enabled, render_view, summary_lines
from orchestrator.ui.logs import configure_logging, reset_run_view, run_view
from orchestrator.ui.view import RunView
from tests.display_helpers import SEQUENCE, log_sequence

ROOT = Path(__file__).resolve().parent.parent


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _render(view: RunView, width: int = 100) -> str:
    rich_console = Console(record=True, force_terminal=True, width=width, color_system=None)
    rich_console.print(render_view(view))
    return rich_console.export_text()


def _driven_view() -> tuple[RunView, _Clock]:
    clock = _Clock()
    view = RunView(clock=clock)
    for event, fields in SEQUENCE:
        view.apply({"event": event, "run_id": "run-42", **fields})
        clock.now += 10
    return view, clock


def test_view_follows_the_event_sequence() -> None:
    view, _ = _driven_view()
    assert [(m.id, m.status) for m in view.milestones] == [
        ("M1", "passed"),
        ("M2", "running"),
        ("M3", "pending"),
    ]
    assert (view.step, view.attempt, view.tokens_total) == ("repair", 3, 45678)
    assert view.last_command is None  # the new step has run no command yet
    assert view.last_checks == "1 passed, 1 failed: unit-tests"


def test_last_command_belongs_to_its_step_and_milestone() -> None:
    view = RunView()
    view.apply({"event": "milestone_started", "milestone": "1"})
    view.apply({"event": "step_started", "milestone": "1", "step": "implement", "attempt": 1})
    view.apply({"event": "codex_command", "command": "make lint", "exit_code": 2})
    assert (view.last_command, view.last_command_exit) == ("make lint", 2)
    view.apply({"event": "step_started", "milestone": "1", "step": "review", "attempt": 1})
    assert view.last_command is None
    view.apply({"event": "codex_command", "command": "cat a.py", "exit_code": 0})
    view.apply({"event": "milestone_started", "milestone": "2"})
    assert view.last_command is None


def test_checks_show_while_they_run_and_their_duration_after() -> None:
    clock = _Clock()
    view = RunView(clock=clock)
    view.apply({"event": "milestone_started", "milestone": "1", "title": "One"})
    view.apply({"event": "step_started", "milestone": "1", "step": "implement", "attempt": 1})
    view.apply({"event": "codex_command", "command": "touch a", "exit_code": 0})
    view.apply({"event": "step_finished", "step": "implement", "duration_s": 3.0})
    view.apply({"event": "checks_started", "attempt": 1, "checks": ["unit", "lint"]})
    clock.now += 15
    text = _render(view)
    assert "checks running  attempt 1  milestone 1  15s" in text
    assert "implement" not in text.split("checks running")[1]
    assert "last command" not in text
    view.apply({"event": "checks_finished", "attempt": 1, "passed": 2, "failed": []})
    assert "step checks  attempt 1  milestone 1  done in 15s" in _render(view)


def test_an_interrupted_run_shows_no_milestone_running() -> None:
    view, _ = _driven_view()
    view.apply({"event": "run_finished", "status": "interrupted", "exit_code": 130})
    assert [m.status for m in view.milestones] == ["passed", "interrupted", "pending"]
    text = _render(view)
    assert "running" not in text
    assert "‖ M2 Render widgets" in " ".join(text.split())


def test_render_shows_plan_milestones_step_command_tokens_checks() -> None:
    view, clock = _driven_view()
    clock.now += 65
    text = _render(view)
    assert "plans/widget.md" in text
    assert "run-42" in text
    for line in ("✓ M1 Parse widgets", "▶ M2 Render widgets", "· M3 Ship it"):
        assert line in " ".join(text.split()), text
    assert "abcdef12" in text
    assert "step repair  attempt 3  milestone M2  1m15s" in text
    view.apply({"event": "codex_command", "command": "make lint", "exit_code": 2})
    assert "last command: (exit 2) make lint" in _render(view)
    assert "tokens 45,678" in text
    assert "validation: 1 passed, 1 failed: unit-tests" in text


def test_render_fits_a_narrow_pane() -> None:
    view, _ = _driven_view()
    text = _render(view, width=60)
    assert max(len(line) for line in text.splitlines()) <= 60


def test_multi_line_command_stays_on_one_line() -> None:
    view, _ = _driven_view()
    heredoc = "cat > a.py <<'EOF'\n" + "x = 1\n" * 200 + "EOF"
    view.apply({"event": "codex_command", "command": heredoc, "exit_code": 0})
    text = _render(view, width=80)
    (line,) = [ln for ln in text.splitlines() if "last command" in ln]
    assert "(exit 0) cat > a.py <<'EOF' ⏎ x = 1 ⏎" in line
    assert line.rstrip(" │").endswith("…")
    short, _ = _driven_view()
    short.apply({"event": "codex_command", "command": "true", "exit_code": 0})
    assert len(text.splitlines()) == len(_render(short, width=80).splitlines())


def test_finished_step_shows_its_duration() -> None:
    view, _ = _driven_view()
    view.apply({"event": "step_finished", "step": "repair", "duration_s": 75.0})
    assert "step repair  attempt 3  milestone M2  done in 1m15s" in _render(view)


def test_non_progress_records_do_not_change_the_view() -> None:
    view = RunView()
    view.apply({"event": "something_else", "milestone": "M9"})
    view.apply({"event": "milestone_started"})  # missing fields still tolerated
    assert view.events_seen == 1


def test_logging_feeds_the_view(tmp_path: Path) -> None:
    configure_logging(LogSettings(quiet=True), tmp_path, "run-42")
    reset_run_view()
    log_sequence()
    view = run_view()
    assert view.run_id == "run-42"
    assert [m.status for m in view.milestones] == ["passed", "running", "pending"]


def test_live_is_off_without_a_tty() -> None:
    # pytest captures stderr, so it is not a TTY here.
    assert not live_enabled(LogSettings())


def test_summary_quiet_clean_run_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    final_summary(status="passed", exit_code=0, settings=LogSettings(quiet=True))
    assert capsys.readouterr() == ("", "")


def test_summary_quiet_needs_human_goes_to_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "NEEDS_HUMAN.md"
    final_summary(
        status="needs_human",
        exit_code=3,
        settings=LogSettings(quiet=True),
        report_path=report,
        question="Which database?",
    )
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == summary_lines(
        status="needs_human", exit_code=3, report_path=report, question="Which database?"
    )
    assert "exit 3, needs-human" in err
    assert "Which database?" in err


def test_summary_clean_run_not_quiet_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    final_summary(status="passed", exit_code=0, settings=LogSettings())
    out, err = capsys.readouterr()
    assert "run passed (exit 0, ok)" in out
    assert err == ""


_TMUX_SCRIPT = """
import time
import structlog
from orchestrator.settings.model import LogSettings
from orchestrator.ui.live import live_display
from orchestrator.ui.logs import configure_logging
from tests.display_helpers import log_sequence

settings = LogSettings()
configure_logging(settings, None, "run-42")
with live_display(settings):
    log_sequence()
    time.sleep(0.6)
    structlog.get_logger().warning("step_retry", attempt_no=1, max_attempts=3, wait_s=2.0,
                                   reason="http 429 from the provider " + "x" * 150)
    time.sleep(0.6)
    structlog.get_logger().warning("another_warning", detail="short")
    time.sleep(0.6)
print("LIVE-DONE", flush=True)
time.sleep(60)
"""


def test_live_display_in_a_real_tmux_pane(tmp_path: Path) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed; install it (apt-get install tmux) to run this test")
    script = tmp_path / "live.py"
    script.write_text(_TMUX_SCRIPT, encoding="utf-8")
    socket = f"orch-test-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env |= {"TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    base = [tmux, "-L", socket, "-f", os.devnull]
    command = f"cd {ROOT} && {sys.executable} {script}"
    subprocess.run(
        [*base, "new-session", "-d", "-x", "120", "-y", "40", command], env=env, check=True
    )
    try:
        screen = ""
        deadline = time.monotonic() + 60  # the bound only guards against a hang
        while time.monotonic() < deadline and "LIVE-DONE" not in screen:
            time.sleep(0.3)
            screen = subprocess.run(
                [*base, "capture-pane", "-p"], env=env, capture_output=True, text=True
            ).stdout
        assert "LIVE-DONE" in screen, screen
        assert "Render widgets" in screen
        assert "$ make lint  (exit 2)" in screen  # history printed above the status area
        assert screen.count("╭─ orchestrator") == 1  # warnings leave no stray box line
        assert screen.count("╰─") == 1
        assert "warning: another_warning detail=short" in screen
        assert "tokens 45,678" in screen
        assert "step repair  attempt 3" in screen
    finally:
        subprocess.run([*base, "kill-server"], env=env, check=False, capture_output=True)
