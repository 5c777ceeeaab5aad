"""Every stop's hook knows how the run ends: ORCH_EXIT_CODE is set for needs_human and
gave_up as it is for run_finished."""

from __future__ import annotations

from pathlib import Path

from orchestrator.cli import main
from tests.supervisor_helpers import (
    PLAN_REL,
    implement,
    write_plan,
    write_scenario,
)


def test_needs_human_hook_gets_the_exit_code(
    git_repo: Path, fake_codex: Path, scenario_file: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("first", ["true"])])
    write_scenario(scenario_file, [implement("1", status="needs_human", question="Which?")])
    out = tmp_path / "hooks.txt"
    config = tmp_path / "config.toml"
    config.write_text(
        "[hooks]\n"
        f"needs_human = ['echo \"needs_human $ORCH_EXIT_CODE\" >> {out}']\n"
        f"run_finished = ['echo \"run_finished $ORCH_EXIT_CODE\" >> {out}']\n",
        encoding="utf-8",
    )
    argv = ["-C", str(git_repo), "--config", str(config), "run", PLAN_REL,
            "--codex-bin", str(fake_codex)]  # fmt: skip
    assert main(argv) == 3
    assert out.read_text(encoding="utf-8").splitlines() == ["needs_human 3", "run_finished 3"]
