"""`orchestrator runs`: list, show and prune run directories; prune keeps the newest runs of
each plan and never the live one."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.store.state import RunState, run_dir, save_state, state_path
from tests.lock_helpers import lock_holder


def _run(repo: Path, run_id: str, plan: str, status: str, pid: int = 1) -> Path:
    save_state(
        state_path(repo, run_id),
        RunState(run_id=run_id, plan_path=plan, status=status, pid=pid, tokens_total=1234),
    )
    (run_dir(repo, run_id) / "transcript.jsonl").write_bytes(b"x" * 4096)
    return run_dir(repo, run_id)


def test_list_show_and_prune(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _run(git_repo, "20260101-000000-aaaa", "docs/a.md", "needs_human")
    mid = _run(git_repo, "20260102-000000-bbbb", "docs/a.md", "gave_up")
    new = _run(git_repo, "20260103-000000-cccc", "docs/a.md", "passed")
    other = _run(git_repo, "20260101-000000-dddd", "docs/b.md", "gave_up")
    (new / "report.md").write_text("# Run 20260103-000000-cccc\n\nall good\n", encoding="utf-8")

    assert main(["-C", str(git_repo), "runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines] == [
        "20260103-000000-cccc", "20260102-000000-bbbb", "20260101-000000-dddd",
        "20260101-000000-aaaa",
    ]  # fmt: skip
    assert "superseded by run" in lines[1]
    assert "1,234 tokens" in lines[0]
    assert "KiB" in lines[0]

    assert main(["-C", str(git_repo), "runs", "show", "20260103"]) == 0
    assert capsys.readouterr().out == "# Run 20260103-000000-cccc\n\nall good\n"
    assert main(["-C", str(git_repo), "runs", "show", "20260102-000000-bbbb"]) == 0
    assert "superseded by run 20260103-000000-cccc" in capsys.readouterr().out
    assert main(["-C", str(git_repo), "runs", "show", "2026"]) == 2
    assert "4 runs of" in capsys.readouterr().err

    assert main(["-C", str(git_repo), "runs", "prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove .agent/runs/20260102-000000-bbbb (gave_up" in out
    assert "would remove .agent/runs/20260101-000000-aaaa (needs_human" in out
    assert all(p.exists() for p in (old, mid, new, other))

    assert main(["-C", str(git_repo), "runs", "prune", "--keep", "2"]) == 0
    assert "1 runs removed, 3 kept" in capsys.readouterr().out
    assert not old.exists()
    assert mid.exists()
    assert main(["-C", str(git_repo), "runs", "prune"]) == 0
    assert not mid.exists()
    assert new.exists()
    assert other.exists()  # the newest (only) run of its plan
    assert main(["-C", str(git_repo), "runs", "prune", "--keep", "0"]) == 2


def test_prune_never_removes_the_live_run(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with lock_holder(git_repo, "docs/a.md", "20260101-000000-aaaa") as proc:
        live = _run(git_repo, "20260101-000000-aaaa", "docs/a.md", "running", pid=proc.pid)
        _run(git_repo, "20260102-000000-bbbb", "docs/a.md", "passed")
        assert main(["-C", str(git_repo), "runs", "prune"]) == 0
        assert "0 runs removed, 2 kept" in capsys.readouterr().out
        assert live.exists()
