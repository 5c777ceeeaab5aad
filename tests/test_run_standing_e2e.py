"""Where a plan stands, on the real codex binary against the scripted model."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.run.session import start_run
from orchestrator.settings.model import CodexSettings, Settings
from orchestrator.store.state import list_runs
from tests.model_server_helpers import scripted_model
from tests.supervisor_helpers import PLAN_REL, git, review_answer, rule, step_answer
from tests.test_run_standing import STANDING, lost_lines

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_part_done_plan_runs_its_open_milestone_and_keeps_every_line(
    git_repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (STANDING / "wrapped_items.md").read_text(encoding="utf-8")
    path = git_repo / PLAN_REL
    path.parent.mkdir(parents=True)
    path.write_text(before, encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "add plan")
    rules = [
        rule(
            "implement",
            contains="step=implement milestone=",
            commands=["echo done > report.txt"],
            answer=step_answer("wrote the migration report"),
        ),
        rule("approve", schema="verdict", answer=review_answer("approve")),
    ]
    with scripted_model(rules, git_repo.parent / "codex-home", monkeypatch) as server:
        settings = Settings(
            codex=CodexSettings(
                binary=str(codex_bin), model="gpt-5.5", step_timeout=90, stall_timeout=60
            )
        )
        code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
        prompts = [
            r.prompt for r in server.requests if r.prompt.startswith("[orchestrator] step=impl")
        ]
    assert code == 0
    # one request per model turn (a command's output comes back in a second request)
    assert {p.split()[2] for p in prompts} == {"milestone=4"}
    state = list_runs(git_repo)[0]
    assert [m.status for m in state.milestones] == ["skipped", "skipped", "skipped", "passed"]
    after = path.read_text(encoding="utf-8")
    assert lost_lines(before, after) == []
    assert "wrote the migration report" in after  # in the orchestrator's Outcomes block
