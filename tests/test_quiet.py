"""Cron mode: `--quiet` prints nothing on a clean finish and a short summary otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    review_answer,
    rule,
    write_plan,
    write_scenario,
)


def _run(repo: Path, fake: Path, scenario: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(repo), "run", PLAN_REL,
         "--codex-bin", str(fake), *extra],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _rules(passing: bool) -> list[dict[str, Any]]:
    if passing:
        return [implement("1", "echo good > m1.txt"), approve_all()]
    return [
        implement("1", "echo bad > m1.txt"),
        rule("ask", schema="verdict", answer=review_answer("needs_human", question="Which?")),
    ]


def test_quiet_run_that_passes_prints_nothing(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("make the file", ["grep -q good m1.txt"])])
    proc = _run(git_repo, fake_codex, write_scenario(tmp_path / "s.json", _rules(True)), "-q")
    assert proc.returncode == 0
    assert (proc.stdout, proc.stderr) == ("", "")


def test_quiet_run_that_needs_a_human_prints_a_short_summary_on_stderr(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("make the file", ["grep -q good m1.txt"])])
    proc = _run(git_repo, fake_codex, write_scenario(tmp_path / "s.json", _rules(False)), "-q")
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "Which?" in proc.stderr
    assert "NEEDS_HUMAN.md" in proc.stderr or "report" in proc.stderr
    assert len(proc.stderr.splitlines()) <= 8


def test_without_quiet_progress_is_printed(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("make the file", ["grep -q good m1.txt"])])
    proc = _run(git_repo, fake_codex, write_scenario(tmp_path / "s.json", _rules(True)))
    assert proc.returncode == 0
    out = proc.stdout + proc.stderr
    assert "milestone 1 passed, commit " in out
    assert "process_finished" not in out  # diagnostics stay in events.jsonl
