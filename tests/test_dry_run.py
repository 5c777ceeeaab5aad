"""`run --dry-run`: milestones, checks and the prompts a run would send; nothing run, nothing
written. The printed prompt is the one a real run then sends, word for word."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.supervisor_helpers import (
    PLAN_REL,
    TWO_FILES,
    approve_all,
    implement,
    invocations,
    write_plan,
    write_scenario,
)


def _tree(repo: Path) -> dict[str, str]:
    """Every file under the repository, .git included, with a digest of its bytes."""
    return {
        str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(repo.rglob("*"))
        if p.is_file()
    }


def test_dry_run_prints_the_plan_of_action_and_writes_nothing(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, TWO_FILES, plan_checks=["true"])
    config = git_repo / ".agent" / "orchestrator.toml"
    config.write_text('[checks]\ncommands = ["test -d .git"]\n', encoding="utf-8")
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), implement("2"), approve_all()])
    before = _tree(git_repo)
    base = ["-C", str(git_repo), "run", PLAN_REL, "--codex-bin", str(fake_codex)]
    assert main([*base, "--dry-run", "--until", "1"]) == 0
    out = capsys.readouterr().out
    assert _tree(git_repo) == before  # no lock file, no run dir, no exclude entry, no commit
    assert invocations(scenario_file) == []  # codex never started
    assert "dry run of .agent/plans/feature.md: nothing is run and nothing is written" in out
    assert "note: the work tree has uncommitted changes (.agent/orchestrator.toml)" in out
    assert "milestone 1: first  (would run)" in out
    assert "  check 1.1: test -f m1.txt\n  check plan.1: true\n  check plan.2: test -d .git" in out
    assert "milestone 2: second  (not run: after --until 1)" in out
    assert "prompt of milestone 2" not in out
    shown = out.split("----- prompt of milestone 1's implement step")[1]
    shown = shown.split("\n", 1)[1].split("----- end of milestone 1's prompt")[0]

    # the run then sends exactly that prompt
    assert main([*base, "--until", "1", "--allow-dirty"]) == 0
    (first, *_) = invocations(scenario_file)
    assert first["prompt"].rstrip("\n") == shown.rstrip("\n")
