"""The fleet on a real Temporal development server, real workers and the real codex."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.fleet_helpers import Fleet, remote_with_plan, temporal
from tests.supervisor_helpers import implement, milestones_on, review_answer, rule, step_answer

__all__ = ["temporal"]  # the fixture, imported for pytest

pytestmark = [pytest.mark.fleet, pytest.mark.e2e, pytest.mark.slow]
BRANCH = "orchestrator/feature"
APPROVE = rule("approve", schema="verdict", answer=review_answer("approve"))


def _rules() -> list[dict[str, object]]:
    return [
        implement("1", "echo one > one.txt"),
        implement("2", "sleep 4", "echo two > two.txt"),
        APPROVE,
    ]


def _two_milestones() -> list[tuple[str, list[str]]]:
    return [("One", ["grep -qx one one.txt"]), ("Two", ["grep -qx two two.txt"])]


def test_three_plans_in_three_repositories_complete(
    temporal: str, tmp_path: Path, codex_bin: Path
) -> None:
    remotes = [remote_with_plan(tmp_path, f"r{i}", [("One", ["grep -qx one one.txt"])])
               for i in range(3)]  # fmt: skip
    with Fleet(temporal, tmp_path, codex_bin, [implement("1", "echo one > one.txt"), APPROVE]) as f:
        f.worker()
        ids = [f.submit(bare) for bare in remotes]
        assert f.submit(remotes[0]) == ids[0]  # submitting again finds the same workflow
        for wid in ids:
            assert f.result(wid)["status"] == "passed"
        rows = json.loads(f.cli("fleet", "status", "--temporal", temporal, "--json").stdout)
    mine = {r["id"]: r for r in rows if r["id"] in ids}
    assert {r["state"] for r in mine.values()} == {"passed"}
    for bare in remotes:
        assert milestones_on(bare, BRANCH) == ["1"]


def _running(root: Path, milestone: str) -> bool:
    for state in root.glob("h1/*/.agent/runs/*/state.json"):
        data = json.loads(state.read_text(encoding="utf-8"))
        if any(m["id"] == milestone and m["status"] == "running" for m in data["milestones"]):
            return True
    return False


def test_a_killed_worker_is_replaced_and_each_milestone_is_committed_once(
    temporal: str, tmp_path: Path, codex_bin: Path
) -> None:
    bare = remote_with_plan(tmp_path, "repo", _two_milestones())
    with Fleet(temporal, tmp_path, codex_bin, _rules()) as f:
        first = f.worker()
        wid = f.submit(bare, "--heartbeat", "3")
        deadline = time.monotonic() + 90
        while not _running(tmp_path, "2"):
            assert time.monotonic() < deadline, "milestone 2 never started"
            time.sleep(0.1)
        f.kill(first)  # the host dies mid-milestone: worker, orchestrator and codex
        f.worker()  # a new worker on the same host takes over
        assert f.result(wid)["status"] == "passed"
    assert milestones_on(bare, BRANCH) == ["2", "1"]


def test_a_needs_human_stop_waits_for_the_answer_signal_and_continues(
    temporal: str, tmp_path: Path, codex_bin: Path
) -> None:
    bare = remote_with_plan(tmp_path, "repo", [("One", ["grep -qx bob name.txt"])])
    ask = rule(
        "ask",
        contains="step=implement milestone=1 ",
        times=1,
        answer=step_answer("stuck", status="needs_human", question="Which name?"),
    )
    after = rule("after", contains="Use bob", schema="status", commands=["echo bob > name.txt"],
                 answer=step_answer("wrote the name"))  # fmt: skip
    with Fleet(temporal, tmp_path, codex_bin, [ask, after, APPROVE]) as f:
        f.worker()
        wid = f.submit(bare)
        row = f.wait_state(wid, "needs_human", timeout=90)
        assert f"orchestrator fleet answer {wid}" in row["next"]
        f.cli("fleet", "answer", "--temporal", temporal, wid, "Use bob")
        assert f.result(wid)["status"] == "passed"
    assert milestones_on(bare, BRANCH) == ["1"]


@pytest.mark.timeout(300)
def test_a_usage_limit_waits_on_a_durable_timer_and_continues(
    temporal: str, tmp_path: Path, codex_bin: Path
) -> None:
    bare = remote_with_plan(tmp_path, "repo", [("One", ["grep -qx one one.txt"])])
    # codex says the reset cut to the minute; a reset in the next minute parks the run
    # (the run waits in-process only for one already due) and the workflow's timer waits
    # until that minute has passed: 60 to 120 s here.
    resets_in = int(60 - time.time() % 60) + 1
    limit = rule("limit", contains="step=implement milestone=1 ", times=1,
                 fault={"kind": "usage_limit", "resets_in_seconds": resets_in})  # fmt: skip
    rules = [limit, implement("1", "echo one > one.txt"), APPROVE]
    with Fleet(temporal, tmp_path, codex_bin, rules) as f:
        f.worker()
        wid = f.submit(bare)
        row = f.wait_state(wid, "usage_limit", timeout=60)
        assert "usage limit resets" in row["next"]
        assert f.result(wid, timeout=200)["status"] == "passed"
        limited = [r for r in f.server.requests if r.rule == "limit"]
    assert len(limited) == 1  # one request against the closed quota, then a timer
    assert milestones_on(bare, BRANCH) == ["1"]
