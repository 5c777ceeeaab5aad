"""`-C DIR` means one thing for every subcommand: the repository to work in, which must
exist; PLAN is found under it first (as `run` and `resume` find it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.supervisor_helpers import PLAN_REL, write_plan


def test_dash_c_missing_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    for argv in (["-C", str(missing), "status"], ["status", "-C", str(missing)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"-C {missing}: the directory does not exist" in err
        assert "Traceback" not in err
        assert err.count("\n") == 1  # one paragraph
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert main(["-C", str(tmp_path / "file"), "check", "plan.md"]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_dash_c_check_finds_the_plan_under_the_repo(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plan(git_repo, [("first", ["true"])])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(git_repo), "check", PLAN_REL],
        cwd=elsewhere, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "runnable" in proc.stdout
    # without -C, the same relative path is looked up in the current directory
    monkeypatch.chdir(elsewhere)
    assert main(["check", PLAN_REL]) == 2


def test_status_of_a_plan_under_dash_c(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    write_plan(git_repo, [("first", ["true"])])
    monkeypatch.chdir(tmp_path)
    assert main(["-C", str(git_repo), "status", PLAN_REL]) == 0
    assert f"no runs of {git_repo / PLAN_REL}" in capsys.readouterr().out
