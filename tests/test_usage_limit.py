"""Usage limits are waited out inside the invocation's budget, or parked: exit 4, status
`usage_limit`, the reset time everywhere, a hook event; never a person's problem, never an
attempt, one request per try."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.codex.usage_limit import retry_after_stall, usage_limit
from orchestrator.milestone.usage_wait import plan_wait
from orchestrator.store.state import list_runs, run_dir
from orchestrator.testing.fake_codex import read_state, usage_limit_message
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    rule,
    write_plan,
    write_scenario,
)


def _at(day: int, hour: int, minute: int, second: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, second).timestamp()


def test_both_reset_wordings_and_the_plain_one_are_recognised() -> None:
    now = _at(30, 21, 10, 30)
    same_day = usage_limit(usage_limit_message(3600, now=now), now)
    assert same_day is not None
    assert same_day.resets_at == _at(30, 22, 10)
    other_day = usage_limit(usage_limit_message(2 * 86400, now=now), now)
    assert other_day is not None
    assert "Dec 2nd, 2026 9:10 PM" in other_day.message
    assert other_day.resets_at == datetime(2026, 12, 2, 21, 10).timestamp()
    plain = usage_limit("You’ve hit your usage limit. Try again later.", now)
    assert plain is not None
    assert plain.resets_at is None
    wild = usage_limit("unexpected status 429: The usage limit has been reached", now)
    assert wild is not None
    assert wild.resets_at is None
    assert usage_limit("Quota exceeded. Check your plan and billing details.", now) is None
    assert usage_limit("exceeded retry limit, last status: 429 Too Many Requests", now) is None
    later = usage_limit("You’ve hit your usage limit. … try again at 11:05 PM.", _at(30, 10, 0))
    assert later is not None
    assert later.resets_at == _at(30, 23, 5)
    # a time without a date that lies more than 12 hours back is tomorrow's
    early = usage_limit("You’ve hit your usage limit. … try again at 12:01 AM.", _at(30, 23, 59))
    assert early is not None
    assert early.resets_at == datetime(2026, 12, 1, 0, 1).timestamp()


def test_a_long_retry_after_shows_as_a_429_reconnect_then_silence() -> None:
    reconnect = "Reconnecting... 1/2 (exceeded retry limit, last status: 429 Too Many Requests)"
    found = retry_after_stall(["something else", reconnect])
    assert found is not None
    assert found.resets_at is None
    assert retry_after_stall([reconnect, "Reconnecting... 2/5 (stream disconnected)"]) is None


def test_plan_wait() -> None:
    now = 1000.0
    assert plan_wait(None, now, 10**6) is None  # unknown reset: park
    assert plan_wait(now + 600, now, 3600) == 660  # to the end of the minute codex named
    assert plan_wait(now + 600, now, 640) == 635  # that minute runs past the budget
    assert plan_wait(now + 3 * 3600, now, 3600) is None  # past the budget: park
    assert plan_wait(now - 55, now, 3600) == 5


def _hook_config(tmp_path: Path) -> Path:
    config = tmp_path / "orch.toml"
    out = tmp_path / "hook-payload.json"
    config.write_text(f"[hooks]\nusage_limit = ['cp \"$ORCH_PAYLOAD\" {out}']\n")
    return out


def test_a_long_limit_parks_the_run_and_the_next_run_continues(
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(
        scenario_file,
        [rule("limit", fault={"kind": "usage_limit", "resets_in_seconds": 3 * 3600})],
    )
    payload = _hook_config(tmp_path)
    args = ["-C", str(git_repo), "--config", str(tmp_path / "orch.toml")]
    run = [*args, "run", PLAN_REL, "--codex-bin", str(fake_codex), "--max-wall", "1h"]
    assert main(run) == 4
    err = capsys.readouterr().err
    (state,) = list_runs(git_repo)
    assert state.status == "usage_limit"
    assert state.resets_at is not None
    reset = datetime.fromtimestamp(state.resets_at).strftime("%H:%M")
    assert f"resets at {datetime.fromtimestamp(state.resets_at):%Y-%m-%d} {reset}" in err
    assert f"run {PLAN_REL}" in err.splitlines()[-1]  # the next step, last
    ms = state.milestones[0]
    assert (ms.attempts, ms.status) == (0, "interrupted")
    assert len(read_state(scenario_file)["invocations"]) == 1  # one request, no storm
    report = (run_dir(git_repo, state.run_id) / "report.md").read_text()
    assert "Usage limit resets:" in report
    assert json.loads(payload.read_text())["resets_at"] == state.resets_at
    assert main([*args, "status"]) == 0
    assert "usage limit resets at" in capsys.readouterr().out

    # the line again before the reset: parked still, and no request is sent
    assert main(run) == 4
    assert "nothing was sent to the model" in capsys.readouterr().err
    assert len(read_state(scenario_file)["invocations"]) == 1

    # a night whose budget the reset falls into: the same step is tried (here the
    # scripted limit is gone already, so it runs at once)
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert main([*run[:-2], "--max-wall", "4h"]) == 0
    (state,) = list_runs(git_repo)
    assert state.status == "passed"


def test_an_unknown_reset_parks_at_once(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(
        scenario_file, [rule("limit", fault={"kind": "usage_limit", "resets_in_seconds": None})]
    )
    assert main(["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]) == 4
    (state,) = list_runs(git_repo)
    assert (state.status, state.resets_at) == ("usage_limit", None)
    assert "reset time not given" in (state.stop_reason or "")
    assert len(read_state(scenario_file)["invocations"]) == 1


def test_a_short_limit_is_waited_out_and_the_same_step_continues(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    """The limit (reset named as a minute already begun) is waited out inside the run;
    the implement step runs again, no attempt is spent and the run passes."""
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(
        scenario_file,
        [
            rule(
                "limit",
                contains="step=implement",
                fault={"kind": "usage_limit", "resets_in_seconds": -55},
                times=1,
            ),
            implement("1", "touch m1.txt"),
            approve_all(),
        ],
    )
    assert main(["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]) == 0
    (state,) = list_runs(git_repo)
    assert state.status == "passed"
    assert state.milestones[0].attempts == 0
    rules = [c["rule"] for c in read_state(scenario_file)["invocations"]]
    assert rules == ["limit", "implement-1", "approve"]
    events = (run_dir(git_repo, state.run_id) / "events.jsonl").read_text()
    assert '"usage_limit_wait"' in events


def test_the_live_view_counts_down_a_wait() -> None:
    from rich.console import Console

    from orchestrator.ui.lines import progress_line
    from orchestrator.ui.live import render_view
    from orchestrator.ui.view import RunView

    now = [1000.0]
    view = RunView(clock=lambda: now[0])
    record = {"event": "usage_limit_wait", "until": 1125.0, "wait_s": 125.0, "reason": "limit"}
    view.apply(record)
    console = Console(width=120, record=True)
    console.print(render_view(view))
    assert "usage limit: waiting 2m05s" in console.export_text()
    now[0] = 1100.0
    assert view.waiting_left() == 25.0
    now[0] = 1130.0
    assert view.waiting_left() is None
    line = progress_line(record)
    assert line is not None
    assert line.startswith("usage limit: waiting until ")
