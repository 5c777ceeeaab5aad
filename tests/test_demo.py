"""`orchestrator demo` end to end: the real codex binary, the scripted model, real git."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_demo_passes_three_milestones_on_the_real_codex(tmp_path: Path, codex_bin: Path) -> None:
    repo = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "demo", "--keep", str(repo)],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "demo finished" in proc.stdout

    subjects = git(repo, "log", "--format=%s").splitlines()
    assert subjects == [
        "textstats: outcomes and retrospective",
        "textstats: milestone 3: A command line",
        "textstats: milestone 2: Rank the most frequent words",
        "textstats: milestone 1: Count words",
        "Sample project: textstats with its tests",
    ]
    for n in ("1", "2", "3"):
        body = git(repo, "log", "-1", "--format=%B", f"--grep=^Milestone: {n}$")
        assert "ExecPlan: .agent/plans/textstats.md" in body
        assert "Codex-Thread: " in body
    attempts = git(repo, "log", "--format=%(trailers:key=Attempts,valueonly)").split()
    assert attempts == ["2", "2", "1"]  # milestones 3, 2, 1: repairs show in git
    assert git(repo, "status", "--porcelain") == ""
    tracked = git(repo, "ls-files").splitlines()
    assert "textstats/words.py" in tracked
    assert "textstats/__main__.py" in tracked
    assert not any("__pycache__" in p for p in tracked)

    plan = (repo / ".agent/plans/textstats.md").read_text(encoding="utf-8")
    assert plan.count("- [x] (") == 3
    assert "- [ ]" not in plan
    assert "str.split() keeps punctuation attached to words" in plan  # a discovery
    assert "Extract words with the regex" in plan  # a decision

    (run_dir,) = (repo / ".agent/runs").iterdir()
    state = json.loads((run_dir / "state.json").read_text(encoding="utf-8"))
    assert state["status"] == "passed"
    kinds = {
        m["id"]: [(s["kind"], s.get("summary") or "") for s in m["steps"]]
        for m in state["milestones"]
    }
    assert [k for k, _ in kinds["1"]] == ["implement", "validate", "review"]
    assert [k for k, _ in kinds["2"]] == [
        "implement",
        "validate",
        "review",
        "repair",
        "validate",
        "review",
    ]
    assert [k for k, _ in kinds["3"]] == [
        "implement",
        "validate",
        "review",
        "repair",
        "validate",
        "review",
    ]
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "changes_requested" in report
