from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from orchestrator.settings.model import LogSettings
from orchestrator.ui.logs import close_logging, configure_logging, events_path

SECRET = "planted-Secret-Value-0123456789"


@pytest.fixture(autouse=True)
def _close_logs() -> Iterator[None]:
    yield
    structlog.contextvars.clear_contextvars()
    close_logging()


def _records(run_dir: Path) -> list[dict[str, object]]:
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_records_carry_timestamp_level_and_context(tmp_path: Path) -> None:
    configure_logging(LogSettings(quiet=True), tmp_path, "run-1")
    structlog.contextvars.bind_contextvars(milestone="M2", attempt=1)
    structlog.get_logger().info("step_started", step="repair", extra={"n": 1})
    structlog.get_logger().debug("detail", size=3)
    first, second = _records(tmp_path)
    assert list(first)[:7] == [
        "timestamp",
        "level",
        "event",
        "run_id",
        "milestone",
        "step",
        "attempt",
    ]
    assert first["level"] == "info"
    assert first["event"] == "step_started"
    assert (first["run_id"], first["milestone"], first["step"], first["attempt"]) == (
        "run-1",
        "M2",
        "repair",
        1,
    )
    assert first["extra"] == {"n": 1}
    stamp = datetime.fromisoformat(str(first["timestamp"]))
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
    assert second["level"] == "debug"


def test_reconfigure_moves_records_to_the_new_run_dir(tmp_path: Path) -> None:
    early, run_dir = tmp_path / "early", tmp_path / "run"
    configure_logging(LogSettings(quiet=True), early, None)
    structlog.get_logger().info("before")
    configure_logging(LogSettings(quiet=True), run_dir, "run-2")
    structlog.get_logger().info("after")
    assert events_path() == run_dir / "events.jsonl"
    assert [r["event"] for r in _records(early)] == ["before"]
    assert [(r["event"], r["run_id"]) for r in _records(run_dir)] == [("after", "run-2")]


def test_console_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), tmp_path, "run-3")
    structlog.get_logger().info("milestone_started", milestone="M1", title="T")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert json.loads(err[0]) == _records(tmp_path)[0]


def test_console_lines_are_human_readable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="console"), None, "run-4")
    structlog.get_logger().warning("check_failed", check="unit")
    err = capsys.readouterr().err
    # the same HH:MM:SS style as progress lines, not an ISO timestamp
    assert re.fullmatch(r"\d\d:\d\d:\d\d warning: check_failed check=unit\n", err), err
    assert not err.lstrip().startswith("{")


def test_progress_and_warning_lines_share_one_style(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="console"), None, "run-4")
    log = structlog.get_logger()
    log.info("milestone_started", milestone="1", title="One")
    log.warning("step_retry", attempt_no=1, max_attempts=3, reason="429", wait_s=2)
    log.error("hook_failed", hook="notify")
    lines = capsys.readouterr().err.splitlines()
    assert [re.sub(r"^\d\d:\d\d:\d\d ", "", ln) for ln in lines] == [
        "milestone 1: One",
        "warning: step_retry attempt_no=1 max_attempts=3 reason=429 wait_s=2",
        "error: hook_failed hook=notify",
    ]
    assert "\x1b[" not in "".join(lines)  # not a terminal: no colour


def test_colour_is_decided_once_in_the_console_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.ui import console

    class _Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert console.colour_enabled(_Tty())
    assert not console.colour_enabled(io.StringIO())
    assert console.paint("ok", "green", enabled=True) == "\x1b[32mok\x1b[0m"
    assert console.paint("ok", "green", enabled=False) == "ok"
    monkeypatch.setenv("NO_COLOR", "1")
    assert not console.colour_enabled(_Tty())
    monkeypatch.setenv("NO_COLOR", "")  # https://no-color.org: an empty value does not count
    assert console.colour_enabled(_Tty())
    monkeypatch.setenv("TERM", "dumb")
    assert not console.colour_enabled(_Tty())


def test_quiet_prints_nothing_but_still_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(LogSettings(quiet=True), tmp_path, "run-5")
    structlog.get_logger().error("bad_thing")
    assert capsys.readouterr() == ("", "")
    assert _records(tmp_path)[0]["event"] == "bad_thing"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_planted_secret_never_reaches_file_or_console(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    monkeypatch.setenv("SERVICE_API_KEY", SECRET)
    configure_logging(LogSettings.model_validate({"format": fmt}), tmp_path, "run-6")
    structlog.contextvars.bind_contextvars(milestone=f"M-{SECRET}")
    log = structlog.get_logger()
    log.info(f"event with {SECRET} inside", value=SECRET)
    log.info("nested", data={"list": [SECRET, {"deep": f"x{SECRET}y"}]}, tup=(SECRET,))
    log.warning("header", h="Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123")
    log.info("quoted", text=f'he said "{SECRET}"\n')
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        log.exception("boom")
    out, err = capfd.readouterr()
    written = (tmp_path / "events.jsonl").read_text(encoding="utf-8")
    assert written.count("[REDACTED]") >= 7
    for text in (written, out, err):
        assert SECRET not in text
        assert "abcdefghijklmnopqrstuvwxyz0123" not in text
    assert "[REDACTED]" in err


_COLOUR_SCRIPT = """
import structlog
from orchestrator.settings.model import LogSettings
from orchestrator.ui.logs import configure_logging
configure_logging(LogSettings(live=False), None, "r")
structlog.get_logger().info("checks_finished", attempt=1, passed=2, failed=[])
"""


@pytest.mark.parametrize("no_color", [None, "1"])
def test_progress_lines_are_coloured_on_a_terminal_unless_no_color(no_color: str | None) -> None:
    master, slave = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _COLOUR_SCRIPT],
            stderr=slave, stdout=subprocess.DEVNULL, env=env, timeout=60, check=False,
        )  # fmt: skip
        os.close(slave)
        assert proc.returncode == 0
        shown = os.read(master, 65536).decode()
    finally:
        os.close(master)
    assert "checks: all 2 passed" in shown
    assert ("\x1b[32m" in shown) is (no_color is None), repr(shown)
