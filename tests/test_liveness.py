"""The liveness signals of a codex step, the session file reader, and the watchdog hook."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import anyio
import pytest
from structlog.testing import capture_logs

from orchestrator.codex.events import parse_event
from orchestrator.codex.liveness import Liveness, short_command
from orchestrator.codex.rollout import RolloutFile, codex_home, thread_day
from orchestrator.codex.runner import run_step
from orchestrator.codex.step import Outcome, StepRequest, StepResult
from orchestrator.process.child import ProcessRequest, Verdict, run_process
from orchestrator.settings.model import CodexSettings
from orchestrator.testing.fake_codex import install_fake_codex

THREAD = "01a22ec2-9545-7e10-a567-4d0d101d5bba"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _event(kind: str, item_id: str, command: str = "/bin/bash -lc 'make test'") -> str:
    item = {"id": item_id, "type": "command_execution", "command": command, "status": "x"}
    return json.dumps({"type": kind, "item": item})


def _session_file(home: Path, thread: str = THREAD, day: date | None = None) -> Path:
    day = day or date.today()
    folder = home / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{day:%Y-%m-%d}T01-02-03-{thread}.jsonl"
    path.write_text(json.dumps({"type": "session_meta", "payload": {"id": thread}}) + "\n")
    return path


def _append(path: Path, *payloads: Mapping[str, object]) -> None:
    with path.open("a") as handle:
        for payload in payloads:
            handle.write(json.dumps({"type": "response_item", "payload": payload}) + "\n")


POLL = {"type": "function_call", "name": "write_stdin", "arguments": '{"session_id": 7}'}
OUTPUT = {"type": "function_call_output", "call_id": "c", "output": "Process running"}


def _liveness(clock: Clock, home: Path | None = None, **limits: float) -> Liveness:
    return Liveness(
        stall_timeout=limits.get("stall", 10.0),
        command_timeout=limits.get("command", 100.0),
        codex_home=home,
        clock=clock,
    )


def test_a_quiet_step_without_a_command_stalls_and_says_what_went_quiet() -> None:
    clock = Clock()
    live = _liveness(clock)
    live.saw(parse_event(json.dumps({"type": "turn.started"})))
    assert live.check(clock.now + 9, clock.now) is None
    verdict = live.check(clock.now + 11, clock.now)
    assert verdict is not None
    assert verdict.ended == "stalled"
    assert "no JSONL event for 11s" in verdict.reason
    assert "no command in flight" in verdict.reason
    assert "no session started" in verdict.reason


def test_a_command_in_flight_is_alive_until_command_timeout_and_is_named() -> None:
    clock = Clock()
    live = _liveness(clock, stall=10, command=100)
    live.saw(parse_event(_event("item.started", "item_3")))
    start = clock.now
    assert live.check(start + 50, start) is None  # silent 50 s, far past the stall timeout
    verdict = live.check(start + 100, start)
    assert verdict is not None
    assert verdict.ended == "timeout"
    assert "`make test`" in verdict.reason
    assert "codex.command_timeout (1m40s)" in verdict.reason


def test_a_completed_command_no_longer_keeps_the_step_alive() -> None:
    clock = Clock()
    live = _liveness(clock, stall=10)
    live.saw(parse_event(_event("item.started", "item_0")))
    clock.now += 30
    live.saw(parse_event(_event("item.completed", "item_0")))
    assert live.check(clock.now + 5, clock.now) is None
    verdict = live.check(clock.now + 10, clock.now)
    assert verdict is not None
    assert verdict.ended == "stalled"


def test_session_file_entries_keep_a_silent_step_alive_and_polls_are_counted(
    tmp_path: Path,
) -> None:
    clock = Clock()
    live = _liveness(clock, tmp_path, stall=10)
    session = _session_file(tmp_path)
    live.saw(parse_event(json.dumps({"type": "thread.started", "thread_id": THREAD})))
    start = clock.now
    assert live.check(start + 1, start) is None  # finds the file
    for second in range(8, 80, 8):  # codex writes an entry every 8 s; stdout stays silent
        _append(session, OUTPUT)
        assert live.check(start + second, start) is None
    verdict = live.check(start + 72 + 10, start)
    assert verdict is not None
    assert verdict.ended == "stalled"
    assert "no session file entry for 10s" in verdict.reason


def test_polls_are_counted_for_the_command_and_logged_while_it_runs(tmp_path: Path) -> None:
    clock = Clock()
    live = _liveness(clock, tmp_path, stall=5, command=1000)
    session = _session_file(tmp_path)
    live.saw(parse_event(json.dumps({"type": "thread.started", "thread_id": THREAD})))
    with capture_logs() as logs:
        live.saw(parse_event(_event("item.started", "item_1", "/bin/bash -lc 'pytest -q'")))
        start = clock.now
        live.check(start, start)
        for second in range(1, 40):
            if second % 5 == 0:
                _append(session, POLL, OUTPUT)
            assert live.check(start + second, start) is None
    started = [r for r in logs if r["event"] == "codex_command_started"]
    running = [r for r in logs if r["event"] == "codex_command_running"]
    assert started == [{"event": "codex_command_started", "command": "pytest -q",
                        "log_level": "info"}]  # fmt: skip
    assert [r["elapsed_s"] for r in running] == [5.0, 10.0, 20.0]  # doubling gaps
    assert running[-1]["polls"] == 4  # polls at 5, 10, 15 and 20 s
    assert live.polls == 7
    polled = [(r["elapsed_s"], r["polls"]) for r in logs if r["event"] == "codex_command_polled"]
    assert polled == [(float(5 * n), n) for n in range(1, 8)]


def test_the_session_file_is_found_in_an_older_folder(tmp_path: Path) -> None:
    path = _session_file(tmp_path, day=date(2024, 1, 2))
    rollout = RolloutFile(tmp_path, THREAD)
    rollout.look()
    assert rollout.path == path
    _append(path, POLL)
    with path.open("a") as handle:
        handle.write('{"type":"response_item","payload":{"type":"function_call","name":"wri')
    news = rollout.look()
    assert (news.entries, news.polls) == (1, 1)  # the partial line waits for its end
    with path.open("a") as handle:
        handle.write('te_stdin"}}\n')
    news = rollout.look()
    assert (news.entries, news.polls) == (1, 1)


def test_a_resumed_threads_session_file_is_found_in_the_folder_of_its_first_day(
    tmp_path: Path,
) -> None:
    began = datetime(2024, 3, 5, 12, 0)
    millis = f"{int(began.timestamp() * 1000):012x}"
    thread = f"{millis[:8]}-{millis[8:]}-7e10-a567-4d0d101d5bba"  # a UUIDv7, as codex makes
    assert thread_day(thread) == date(2024, 3, 5)
    path = _session_file(tmp_path, thread, day=date(2024, 3, 5))
    rollout = RolloutFile(tmp_path, thread)
    rollout.look()
    assert rollout.path == path
    assert thread_day("not-a-uuid") is None


def test_codex_home_is_found_as_codex_finds_it(tmp_path: Path) -> None:
    assert codex_home({"CODEX_HOME": str(tmp_path / "h")}) == tmp_path / "h"
    assert codex_home({"HOME": str(tmp_path)}) == tmp_path / ".codex"
    assert codex_home({"CODEX_HOME": "", "HOME": str(tmp_path)}) == tmp_path / ".codex"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("/bin/bash -lc 'sleep 5; echo hi'", "sleep 5; echo hi"),
        ('/bin/bash -lc "make  test"', "make test"),
        ("pytest -q", "pytest -q"),
    ],
)
def test_short_command_unwraps_the_shell(raw: str, shown: str) -> None:
    assert short_command(raw) == shown


class _Quiet:
    """A watchdog that ends the run on its third consultation."""

    interval = 0.05

    def __init__(self) -> None:
        self.calls = 0

    def check(self, now: float, last_output: float) -> Verdict | None:
        self.calls += 1
        return Verdict(ended="stalled", reason="nothing moved") if self.calls >= 3 else None


def test_run_process_ends_a_child_its_watchdog_condemns(tmp_path: Path) -> None:
    watchdog = _Quiet()
    request = ProcessRequest(argv=[sys.executable, "-c", "import time; time.sleep(30)"],
                             cwd=tmp_path, timeout=60, kill_grace=1)  # fmt: skip

    async def main() -> tuple[str, str | None, float]:
        outcome = await run_process(request, None, watchdog)
        return outcome.ended, outcome.reason, outcome.duration_s

    ended, reason, duration = anyio.run(main)
    assert (ended, reason) == ("stalled", "nothing moved")
    assert watchdog.calls == 3
    assert duration < 20


def _fake_step(
    tmp_path: Path, repo: Path, reply: Mapping[str, object], **limits: float
) -> StepResult:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"rules": [{"name": "r", "reply": reply}]}), encoding="utf-8")
    shim = install_fake_codex(tmp_path / "bin")
    settings = CodexSettings(binary=str(shim), **{"step_timeout": 60, "kill_grace": 1, **limits})
    request = StepRequest(prompt="go", cwd=repo, transcript=tmp_path / "t.jsonl",
                          env={"FAKE_CODEX_SCENARIO": str(scenario)})  # fmt: skip

    async def main() -> StepResult:
        return await run_step(request, settings)

    return anyio.run(main)


def test_a_silent_command_longer_than_the_stall_timeout_is_alive(
    tmp_path: Path, git_repo: Path
) -> None:
    reply = {"commands": ["sleep 4.5; echo done > done.txt"], "message": "ok"}
    result = _fake_step(tmp_path, git_repo, reply, stall_timeout=2.0)
    assert result.outcome is Outcome.OK, result.error
    assert result.duration_s > 4.5
    assert (git_repo / "done.txt").read_text() == "done\n"


def test_a_command_over_its_bound_ends_the_step_even_with_a_generous_stall_timeout(
    tmp_path: Path, git_repo: Path
) -> None:
    reply = {"commands": ["sleep 60"], "message": "never"}
    result = _fake_step(tmp_path, git_repo, reply, stall_timeout=30.0, command_timeout=1.5)
    assert result.outcome is Outcome.TIMEOUT
    assert result.error is not None
    assert result.error.startswith("the command `sleep 60` ran for 2s, past codex.command_timeout")
    assert result.duration_s < 15


def test_step_timeout_bounds_a_busy_step_and_says_so(tmp_path: Path, git_repo: Path) -> None:
    reply = {"commands": ["sleep 60"], "message": "never"}
    result = _fake_step(tmp_path, git_repo, reply, step_timeout=1.5, command_timeout=30.0)
    assert result.outcome is Outcome.TIMEOUT
    assert result.error is not None
    assert result.error.startswith("no result within the step's wall-clock limit (2s: ")
    assert "codex.step_timeout" in result.error
