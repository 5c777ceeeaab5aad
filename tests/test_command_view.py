"""A command in flight is visible: the live area and the progress lines show it running."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from rich.console import Console

from orchestrator.cli import main
from orchestrator.commands.status import command_in_flight
from orchestrator.settings.model import LogSettings
from orchestrator.store.state import MilestoneState, RunState, run_dir, save_state, state_path
from orchestrator.ui.lines import progress_line
from orchestrator.ui.live import render_view
from orchestrator.ui.logs import close_logging, configure_logging
from orchestrator.ui.view import RunView
from tests.lock_helpers import lock_holder


class _Clock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


def _render(view: RunView) -> str:
    rich_console = Console(record=True, force_terminal=True, width=120, color_system=None)
    rich_console.print(render_view(view))
    return rich_console.export_text()


def _view_in_a_step() -> tuple[RunView, _Clock]:
    clock = _Clock()
    view = RunView(clock=clock)
    view.apply({"event": "run_started", "run_id": "r1", "plan": "p.md", "milestones": []})
    view.apply({"event": "step_started", "milestone": "1", "step": "implement", "attempt": 0})
    return view, clock


def test_the_live_area_shows_the_command_in_flight_its_time_and_its_polls() -> None:
    view, clock = _view_in_a_step()
    view.apply({"event": "codex_command_started", "command": "pytest -q tests/"})
    clock.now += 95
    assert "running: 1m35s pytest -q tests/" in _render(view)
    view.apply({"event": "codex_command_running", "command": "pytest -q tests/",
                "elapsed_s": 120.0, "polls": 9})  # fmt: skip
    clock.now += 10
    assert "running: 2m10s, polled 9x pytest -q tests/" in _render(view)


def test_a_finished_command_or_step_clears_the_running_line() -> None:
    view, clock = _view_in_a_step()
    view.apply({"event": "codex_command_started", "command": "make build"})
    view.apply({"event": "codex_command", "command": "/bin/bash -lc 'make build'",
                "exit_code": 0})  # fmt: skip
    assert view.running_command is None
    assert "running:" not in _render(view)
    view.apply({"event": "codex_command_started", "command": "sleep 600"})
    view.apply({"event": "step_finished", "step": "implement", "duration_s": 3.0})
    assert view.command_elapsed() is None
    assert "running:" not in _render(view)


def test_progress_lines_say_a_long_command_is_still_running_and_polled() -> None:
    line = progress_line({"event": "codex_command_running", "command": "make test",
                          "elapsed_s": 480.0, "polls": 30})  # fmt: skip
    assert line == "    … $ make test  still running after 8m, the model polled it 30 times"
    line = progress_line({"event": "codex_command_running", "command": "make test",
                          "elapsed_s": 45.0, "polls": 0})  # fmt: skip
    assert line == "    … $ make test  still running after 45s"


def test_a_stalled_step_says_why_in_the_live_area_and_the_progress_line() -> None:
    view, _ = _view_in_a_step()
    why = "codex did nothing for codex.stall_timeout (5m): no JSONL event for 5m, no command"
    finished = {"event": "step_finished", "step": "implement", "outcome": "stalled",
                "duration_s": 301.0, "reason": why}  # fmt: skip
    view.apply(finished)
    assert f"stalled: {why}" in " ".join(_render(view).split())
    line = progress_line(finished)
    assert line is not None
    assert line.endswith(f"stalled in 301.0s: {why}")
    view.apply({"event": "step_started", "milestone": "1", "step": "repair", "attempt": 1})
    assert "stalled:" not in _render(view)


def test_each_poll_updates_the_live_area_but_prints_no_line() -> None:
    view, clock = _view_in_a_step()
    view.apply({"event": "codex_command_started", "command": "make test"})
    clock.now += 31
    view.apply({"event": "codex_command_polled", "command": "make test",
                "elapsed_s": 31.0, "polls": 1})  # fmt: skip
    assert "running: 31s, polled 1x make test" in _render(view)


@pytest.fixture
def _console_logs() -> Iterator[None]:
    configure_logging(LogSettings(format="console"), None, "run-7")
    yield
    structlog.contextvars.clear_contextvars()
    close_logging()


@pytest.mark.usefixtures("_console_logs")
def test_a_plain_console_prints_the_heartbeat_not_each_start_or_poll(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger()
    log.info("codex_command_started", command="make test")
    log.info("codex_command_polled", command="make test", elapsed_s=12.0, polls=1)
    log.info("codex_command_running", command="make test", elapsed_s=30.0, polls=3)
    lines = capsys.readouterr().err.splitlines()
    assert [line[9:] for line in lines] == [
        "    … $ make test  still running after 30s, the model polled it 3 times"
    ]


def test_status_tells_the_command_in_flight_from_the_last_record() -> None:
    polled = {"event": "codex_command_polled", "timestamp": "2026-01-01T10:00:00.000000Z",
              "command": "make test", "elapsed_s": 600.0, "polls": 20}  # fmt: skip
    at = datetime(2026, 1, 1, 10, 1, 30, tzinfo=UTC).timestamp()
    assert command_in_flight(polled, at) == {"command": "make test", "elapsed_s": 690.0,
                                             "polls": 20}  # fmt: skip
    started = {"event": "codex_command_started", "timestamp": "2026-01-01T10:00:00Z",
               "command": "make build"}  # fmt: skip
    assert command_in_flight(started, at) == {"command": "make build", "elapsed_s": 90.0,
                                              "polls": 0}  # fmt: skip
    assert command_in_flight({"event": "codex_command", "command": "x"}, at) is None
    assert command_in_flight(None, at) is None


def test_status_of_a_live_run_shows_its_command_in_flight(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = "20260102-000000-bbbb"
    with lock_holder(git_repo, "docs/b.md", run_id) as proc:
        state = RunState(run_id=run_id, plan_path="docs/b.md", status="running", pid=proc.pid,
                         created_at=time.time(), milestones=[MilestoneState(id="1")])  # fmt: skip
        save_state(state_path(git_repo, run_id), state)
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        record = {"event": "codex_command_running", "timestamp": now, "command": "make test",
                  "elapsed_s": 480.0, "polls": 30}  # fmt: skip
        (run_dir(git_repo, run_id) / "events.jsonl").write_text(json.dumps(record) + "\n")
        assert main(["-C", str(git_repo), "status"]) == 0
        out = capsys.readouterr().out
        assert "command:  $ make test  running 8m, the model polled it 30 times" in out
        assert main(["-C", str(git_repo), "status", "--json"]) == 0
        (shown,) = json.loads(capsys.readouterr().out)["runs"]
        assert shown["command_in_flight"]["command"] == "make test"
        assert shown["command_in_flight"]["elapsed_s"] >= 480.0
