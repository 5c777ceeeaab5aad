"""A planted secret never reaches a log, transcript, report, state file, plan or commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import git
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    rule,
    step_answer,
    write_plan,
    write_scenario,
)

SECRET = "pl4nted-s3cret-value-0xC0FFEE-98765"
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # a GitHub token shape, not in env


def test_planted_secret_appears_in_no_file_the_run_wrote(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("Make a file", ["test -f made.txt", 'echo "check sees $MY_API_KEY"'])])
    scenario = write_scenario(
        tmp_path / "scenario.json",
        [
            rule(
                "implement",
                contains="step=implement milestone=1 ",
                commands=[
                    'echo "the key is $MY_API_KEY"; echo "Authorization: Bearer $MY_API_KEY"',
                    f"echo {TOKEN}; touch made.txt",
                ],
                answer=step_answer(
                    f"Made the file using {SECRET}",
                    discoveries=[("the env holds a key", f"MY_API_KEY={SECRET}")],
                    decisions=[(f"use token {TOKEN}", "it was there")],
                ),
            ),
            approve_all(),
        ],
    )
    env = {**os.environ, "MY_API_KEY": SECRET, "FAKE_CODEX_SCENARIO": str(scenario)}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(git_repo), "run", PLAN_REL,
         "--codex-bin", str(fake_codex), "--log-format", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (git_repo / "made.txt").exists()

    written = [p for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts]
    run_files = [p for p in written if ".agent/runs" in p.as_posix()]
    assert any(p.name == "events.jsonl" for p in run_files)
    assert any(p.suffix == ".jsonl" and "steps" in p.parts for p in run_files)  # transcripts
    assert any(p.name == "report.md" for p in run_files)
    assert any(p.name == "state.json" for p in run_files)
    history = git(git_repo, "log", "-p", "--all", "--format=%H%n%B")
    outputs = {"stdout": proc.stdout, "stderr": proc.stderr, "git history": history}
    outputs |= {str(p): p.read_text(encoding="utf-8", errors="replace") for p in written}
    # The run did see the secret: the command output mentions where it was masked.
    assert any("[REDACTED]" in text for text in outputs.values())
    for where, text in outputs.items():
        assert SECRET not in text, f"secret leaked into {where}"
        assert TOKEN not in text, f"token leaked into {where}"
