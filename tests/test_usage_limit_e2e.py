"""Usage limits on the real codex binary against the scripted model's usage-limit fault
(a 429 `usage_limit_reached` with `resets_in_seconds`): a long one parks the run after
one request; a short one is waited out and the same step continues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.run.session import start_run
from orchestrator.settings.model import CodexSettings, RunSettings, Settings
from orchestrator.store.state import list_runs
from tests.model_server_helpers import scripted_model
from tests.supervisor_helpers import PLAN_REL, review_answer, rule, step_answer, write_plan

pytestmark = [pytest.mark.e2e]


def _run(
    repo: Path,
    codex_bin: Path,
    monkeypatch: pytest.MonkeyPatch,
    rules: list[dict[str, Any]],
    **run: object,
) -> tuple[int, list[str | None]]:
    with scripted_model(rules, repo.parent / "codex-home", monkeypatch) as server:
        settings = Settings(
            codex=CodexSettings(binary=str(codex_bin), model="gpt-5.5", step_timeout=90,
                                stall_timeout=60, kill_grace=3),
            run=RunSettings.model_validate(run),
        )  # fmt: skip
        code = start_run(repo=repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
        return code, [r.rule for r in server.requests]


def _work() -> list[dict[str, Any]]:
    return [
        rule("implement", contains="step=implement milestone=1 ",
             commands=["echo hello > greeting.txt"], answer=step_answer("wrote it")),
        rule("approve", schema="verdict", answer=review_answer("approve")),
    ]  # fmt: skip


def test_a_long_usage_limit_parks_after_one_request(
    git_repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plan(git_repo, [("Write the greeting", ["grep -qx hello greeting.txt"])])
    limit = rule("limit", fault={"kind": "usage_limit", "resets_in_seconds": 5 * 3600})
    code, requests = _run(git_repo, codex_bin, monkeypatch, [limit], max_wall="2h")
    assert code == 4
    assert requests == ["limit"]
    (state,) = list_runs(git_repo)
    assert state.status == "usage_limit"
    assert state.resets_at is not None
    assert "try again at" in (state.stop_reason or "")
    assert state.milestones[0].attempts == 0

    code, requests = _run(git_repo, codex_bin, monkeypatch, _work())
    assert code == 0
    assert requests[0] == "implement"


def test_a_short_usage_limit_is_waited_out(
    git_repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reset codex names is a minute that has begun: wait to its end (seconds), then
    the same implement step again."""
    write_plan(git_repo, [("Write the greeting", ["grep -qx hello greeting.txt"])])
    limit = rule(
        "limit",
        contains="step=implement",
        fault={"kind": "usage_limit", "resets_in_seconds": -55},
        times=1,
    )
    code, requests = _run(git_repo, codex_bin, monkeypatch, [limit, *_work()], max_wall="10m")
    assert code == 0
    assert requests == ["limit", "implement", "implement", "approve"]  # a tool round
    (state,) = list_runs(git_repo)
    assert state.milestones[0].attempts == 0


@pytest.mark.slow
def test_a_429_with_a_long_retry_after_parks_instead_of_sleeping_through_the_night(
    git_repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """codex honours a Retry-After of an hour silently; once the step stalls right after
    its 429 reconnect line, the run parks as a usage limit with no known reset."""
    write_plan(git_repo, [("Write the greeting", ["grep -qx hello greeting.txt"])])
    limit = rule("limited", fault={"kind": "http", "status": 429, "retry_after": 3600})
    with scripted_model([limit], git_repo.parent / "codex-home", monkeypatch) as server:
        settings = Settings(
            codex=CodexSettings(binary=str(codex_bin), model="gpt-5.5", step_timeout=90,
                                stall_timeout=4, kill_grace=2),
        )  # fmt: skip
        code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
        requests = [r.rule for r in server.requests]
    assert code == 4
    assert requests == ["limited"]
    (state,) = list_runs(git_repo)
    assert state.status == "usage_limit"
    assert "Retry-After" in (state.stop_reason or "")
