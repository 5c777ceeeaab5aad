"""The supervisor on the real codex binary against the scripted model: each stop condition.

(The pass stop is `tests/test_demo.py`: three milestones, a repair and a review gate.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from orchestrator.run.session import start_run
from orchestrator.settings.model import CodexSettings, LoopSettings, Settings
from orchestrator.store.state import RunState, list_runs
from orchestrator.testing.server import ScriptedModelServer
from tests.model_server_helpers import scripted_model
from tests.supervisor_helpers import (
    PLAN_REL,
    git,
    repair,
    review_answer,
    rule,
    step_answer,
    write_plan,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class Live:
    def __init__(self, repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.codex_bin = codex_bin
        self.monkeypatch = monkeypatch
        self.server: ScriptedModelServer | None = None

    def run(self, rules: Sequence[dict[str, Any]], **loop: Any) -> tuple[int, RunState]:
        with scripted_model(rules, self.repo.parent / "codex-home", self.monkeypatch) as server:
            self.server = server
            settings = Settings(
                codex=CodexSettings(binary=str(self.codex_bin), model="gpt-5.5",
                                    step_timeout=90, stall_timeout=60, kill_grace=3),
                loop=LoopSettings(**loop),
            )  # fmt: skip
            code = start_run(repo=self.repo, plan_path=Path(PLAN_REL), settings=settings,
                             fresh=False)  # fmt: skip
            self.rules_fired = [r.rule for r in server.requests]
        return code, list_runs(self.repo)[0]


@pytest.fixture
def live(git_repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Live:
    write_plan(git_repo, [("Write the greeting", ["grep -qx hello greeting.txt"])])
    return Live(git_repo, codex_bin, monkeypatch)


def _review(verdict: str, *findings: str, question: str | None = None) -> dict[str, Any]:
    return rule(f"review {verdict}", schema="verdict",
                answer=review_answer(verdict, findings=findings, question=question))  # fmt: skip


def test_needs_human_stops_with_the_question_and_exit_3(live: Live) -> None:
    code, state = live.run([
        rule("implement", contains="step=implement milestone=1 ",
             commands=["echo hello > greeting.txt"], answer=step_answer("wrote it")),
        _review("needs_human", question="Should the greeting be localised?"),
    ])  # fmt: skip
    assert code == 3
    assert state.status == "needs_human"
    handoff = (live.repo / ".agent/runs" / state.run_id / "NEEDS_HUMAN.md").read_text()
    assert "Should the greeting be localised?" in handoff
    assert git(live.repo, "log", "--format=%s").splitlines() == ["add plan", "initial"]
    assert (live.repo / "greeting.txt").read_text() == "hello\n"  # the work is kept


def test_max_attempts_gives_up_with_exit_4(live: Live) -> None:
    code, state = live.run([
        rule("implement", contains="step=implement milestone=1 ",
             commands=["echo helo > greeting.txt"], answer=step_answer("wrote it")),
        repair("1", "echo helo $RANDOM$RANDOM > greeting.txt", summary="again"),
        _review("changes_requested", "greeting.txt must say hello"),
    ], max_attempts=2)  # fmt: skip
    assert code == 4
    assert state.status == "gave_up"
    assert "max attempts" in (state.stop_reason or "")
    assert live.rules_fired.count("repair") >= 2
    report = (live.repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "max attempts" in report
    assert git(live.repo, "log", "--format=%s").splitlines() == ["add plan", "initial"]


def test_unchanged_delta_stalls_with_exit_4(live: Live) -> None:
    code, state = live.run([
        rule("implement", contains="step=implement milestone=1 ",
             commands=["echo helo > greeting.txt"], answer=step_answer("wrote it")),
        repair("1", "cat greeting.txt", summary="looked, changed nothing"),
        _review("changes_requested", "greeting.txt must say hello"),
    ], max_attempts=5)  # fmt: skip
    assert code == 4
    assert "stalled" in (state.stop_reason or "")
    assert live.rules_fired.count("repair") == 2  # one repair turn: a command round, the answer
    report = (live.repo / ".agent/runs" / state.run_id / "report.md").read_text()
    assert "stalled" in report
    assert "grep -qx hello greeting.txt" in report  # the repeating failure is shown
