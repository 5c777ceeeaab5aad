from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.store.state import MilestoneState, RunState, StepRecord, save_state, state_path
from tests.lock_helpers import lock_holder


def _save(repo: Path, run_id: str, plan: str, status: str, pid: int = 1) -> RunState:
    state = RunState(
        run_id=run_id,
        plan_path=plan,
        status=status,
        pid=pid,
        created_at=1_700_000_000.0,
        tokens_total=12345,
        current_milestone="2",
        stop_reason="max attempts" if status == "gave_up" else None,
        milestones=[
            MilestoneState(id="1", title="Setup", status="passed", commit="a" * 40, attempts=1),
            MilestoneState(
                id="2",
                title="Core",
                status="running",
                attempts=2,
                steps=[StepRecord(kind="repair", attempt=2, started_at=1_700_000_100.0)],
            ),
            MilestoneState(id="3", title="Docs"),
        ],
    )
    save_state(state_path(repo, run_id), state)
    return state


def test_no_runs(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(git_repo), "status"]) == 0
    assert "no runs" in capsys.readouterr().out


def test_text_status_of_stopped_runs(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _save(git_repo, "20260101-000000-aaaa", "docs/a.md", "gave_up")
    _save(git_repo, "20260102-000000-bbbb", "docs/b.md", "running", pid=2**22 + 7)
    assert main(["-C", str(git_repo), "status"]) == 0
    out = capsys.readouterr().out
    assert out.index("20260102-000000-bbbb") < out.index("20260101-000000-aaaa")
    assert "gave_up" in out
    assert "reason:   max attempts" in out
    assert "stopped (process gone" in out  # 'running' in the file but no live holder
    assert "12,345" in out
    assert "commit aaaaaaaaaa" in out
    assert "repair attempt 2 (running)" in out
    assert "3  pending" in out


def test_plan_filter_and_json_while_lock_is_held(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(git_repo, "20260101-000000-aaaa", "docs/a.md", "passed")
    events = git_repo / ".agent" / "runs" / "20260101-000000-aaaa" / "events.jsonl"
    events.write_text(
        '{"event": "one"}\n{"event": "checks_finished", "passed": 2}\n{"trunc', "utf-8"
    )
    with lock_holder(git_repo, "docs/b.md", "20260102-000000-bbbb") as proc:
        _save(git_repo, "20260102-000000-bbbb", "docs/b.md", "running", pid=proc.pid)
        assert main(["-C", str(git_repo), "status", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["lock"]["pid"] == proc.pid
        assert data["lock"]["plan"] == "docs/b.md"
        live, done = data["runs"]
        assert live["run_id"] == "20260102-000000-bbbb"
        assert live["live"] is True
        assert live["shown_status"] == "running"
        assert live["milestones"][1]["status"] == "running"
        assert done["last_log_event"] == {"event": "checks_finished", "passed": 2}
        assert done["elapsed_s"] >= 0
        assert main(["-C", str(git_repo), "status", str(git_repo / "docs" / "a.md")]) == 0
        out = capsys.readouterr().out
        assert f"lock held by pid {proc.pid}" in out
        assert "20260101-000000-aaaa" in out
        assert "run 20260102-000000-bbbb  plan" not in out
        assert "last log: checks_finished" in out


def test_corrupt_state_is_reported(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _save(git_repo, "20260101-000000-aaaa", "docs/a.md", "passed")
    bad = state_path(git_repo, "20260105-000000-eeee")
    bad.parent.mkdir()
    bad.write_text("{", encoding="utf-8")
    assert main(["-C", str(git_repo), "status"]) == 0
    captured = capsys.readouterr()
    assert "20260101-000000-aaaa" in captured.out
    assert str(bad) in captured.err
    assert "--rebuild" in captured.err
    assert main(["-C", str(git_repo), "status", "--json"]) == 0
    assert str(bad) in json.loads(capsys.readouterr().out)["errors"][0]


def test_status_import_path_is_light() -> None:
    code = (
        "import sys; from orchestrator.cli import main; import orchestrator.commands.status\n"
        "heavy = [m for m in ('git', 'rich', 'anyio') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_newest_run_per_plan_and_all_marks_the_superseded(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(git_repo, "20260101-000000-aaaa", "docs/a.md", "needs_human")
    _save(git_repo, "20260102-000000-bbbb", "docs/a.md", "passed")
    _save(git_repo, "20260103-000000-cccc", "docs/b.md", "gave_up")
    assert main(["-C", str(git_repo), "status"]) == 0
    out = capsys.readouterr().out
    assert "run 20260102-000000-bbbb" in out
    assert "run 20260103-000000-cccc" in out
    assert "20260101-000000-aaaa" not in out
    assert "needs_human" not in out
    assert "(1 older runs not shown: `orchestrator status --all` lists them)" in out
    assert main(["-C", str(git_repo), "status", "--all"]) == 0
    out = capsys.readouterr().out
    assert "status:   superseded by run 20260102-000000-bbbb (this one stopped needs_human)" in out
    assert "status:   needs_human" not in out
    assert main(["-C", str(git_repo), "status", "--json", "--all"]) == 0
    runs = {r["run_id"]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert runs["20260101-000000-aaaa"]["superseded_by"] == "20260102-000000-bbbb"
    assert runs["20260101-000000-aaaa"]["status"] == "needs_human"  # the file is unchanged
    assert runs["20260103-000000-cccc"]["superseded_by"] is None
