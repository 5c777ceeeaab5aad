"""run_step / run_step_with_retries driven through the fake codex executable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

from orchestrator.codex.runner import run_step, run_step_with_retries
from orchestrator.codex.step import Outcome, StepRequest, StepResult
from orchestrator.settings.model import CodexSettings
from orchestrator.testing.fake_codex import install_fake_codex, read_state


def _setup(tmp_path: Path, rules: list[dict[str, Any]], **kw: Any) -> tuple[CodexSettings, Path]:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    shim = install_fake_codex(tmp_path / "bin")
    opts: dict[str, Any] = {"step_timeout": 30.0, "stall_timeout": 20.0, "kill_grace": 1.0}
    opts.update(kw)
    return CodexSettings(binary=str(shim), **opts), scenario


def _request(repo: Path, scenario: Path, prompt: str = "do it", **kw: Any) -> StepRequest:
    return StepRequest(
        prompt=prompt,
        cwd=repo,
        transcript=repo.parent / "transcript.jsonl",
        env={"FAKE_CODEX_SCENARIO": str(scenario)},
        **kw,
    )


def _step(request: StepRequest, settings: CodexSettings) -> StepResult:
    async def main() -> StepResult:
        return await run_step(request, settings)

    return anyio.run(main)


def test_ok_step_collects_everything(tmp_path: Path, git_repo: Path) -> None:
    patch = "*** Begin Patch\n*** Add File: new.txt\n+new\n*** End Patch\n"
    rules = [
        {
            "name": "work",
            "reply": {
                "commands": ["echo hi > hi.txt", "false"],
                "patch": patch,
                "answer": {"summary": "done"},
            },
        }
    ]
    settings, scenario = _setup(tmp_path, rules)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"summary": {}}}))
    last = tmp_path / "last.txt"
    last.write_text("stale")
    result = _step(_request(git_repo, scenario, output_schema=schema, last_message=last), settings)
    assert result.outcome is Outcome.OK
    assert result.exit_code == 0
    assert result.final_message is not None
    assert json.loads(result.final_message) == {"summary": "done"}
    assert [(c.exit_code, c.status) for c in result.commands] == [(0, "completed"), (1, "failed")]
    assert (git_repo / "new.txt").exists()
    assert (git_repo / "hi.txt").read_text() == "hi\n"
    assert result.usage.input_tokens > 0
    assert result.thread_id
    assert json.loads(last.read_text()) == {"summary": "done"}
    assert result.thread_id in result.transcript.read_text()


def test_non_json_answer_is_kept_as_the_final_message(tmp_path: Path, git_repo: Path) -> None:
    settings, scenario = _setup(tmp_path, [{"name": "m", "reply": {"message": "not json"}}])
    schema = tmp_path / "schema.json"
    schema.write_text("{}")
    result = _step(_request(git_repo, scenario, output_schema=schema), settings)
    assert result.outcome is Outcome.OK
    assert result.final_message == "not json"


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"kind": "http", "status": 429}, Outcome.TRANSIENT),
        ({"kind": "http", "status": 503}, Outcome.TRANSIENT),
        ({"kind": "http", "status": 401}, Outcome.PERMANENT),
        # a bad request is permanent, even when its text sounds transient
        ({"kind": "http", "status": 400, "message": "tool call timed out"}, Outcome.PERMANENT),
        ({"kind": "http", "status": 429, "message": "insufficient_quota"}, Outcome.PERMANENT),
        ({"kind": "cut"}, Outcome.TRANSIENT),
        ({"kind": "crash", "exit_code": 3}, Outcome.TRANSIENT),
    ],
)
def test_fault_classification(
    tmp_path: Path, git_repo: Path, fault: dict[str, Any], outcome: Outcome
) -> None:
    settings, scenario = _setup(tmp_path, [{"name": "f", "reply": {"fault": fault}}])
    result = _step(_request(git_repo, scenario), settings)
    assert result.outcome is outcome, result.error
    assert result.final_message is None


def test_unknown_flag_is_permanent(tmp_path: Path, git_repo: Path) -> None:
    settings, scenario = _setup(tmp_path, [{"name": "a"}], extra_args=["--no-such-flag"])
    result = _step(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.PERMANENT
    assert result.exit_code == 2


def test_missing_binary_is_permanent(tmp_path: Path, git_repo: Path) -> None:
    settings = CodexSettings(binary=str(tmp_path / "missing"))
    result = _step(_request(git_repo, tmp_path / "s.json"), settings)
    assert result.outcome is Outcome.PERMANENT
    assert result.pid is None


def test_malformed_lines_are_skipped(tmp_path: Path, git_repo: Path) -> None:
    rules = [{"name": "m", "reply": {"message": "fine", "fault": {"kind": "malformed"}}}]
    settings, scenario = _setup(tmp_path, rules)
    result = _step(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.OK
    assert result.final_message == "fine"


def test_hang_is_stalled_and_leaves_no_process(tmp_path: Path, git_repo: Path) -> None:
    rules = [{"name": "h", "reply": {"fault": {"kind": "ignore_sigterm"}}}]
    settings, scenario = _setup(tmp_path, rules, stall_timeout=1.0, kill_grace=0.3)
    result = _step(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.STALLED
    assert result.pid is not None
    assert not psutil.pid_exists(result.pid) or (
        psutil.Process(result.pid).status() == psutil.STATUS_ZOMBIE
    )


def test_wall_timeout(tmp_path: Path, git_repo: Path) -> None:
    rules = [{"name": "h", "reply": {"fault": {"kind": "hang"}}}]
    settings, scenario = _setup(tmp_path, rules, step_timeout=1.0, kill_grace=2.0)
    result = _step(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.TIMEOUT
    assert result.duration_s < 4  # the fake exits on SIGINT, well before the grace ends


def _retry(request: StepRequest, settings: CodexSettings) -> tuple[StepResult, list[float]]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> StepResult:
        return await run_step_with_retries(request, settings, sleep=fake_sleep)

    return anyio.run(main), waits


def test_transient_is_retried_and_resumes_the_thread(tmp_path: Path, git_repo: Path) -> None:
    rules: list[dict[str, Any]] = [
        {"name": "busy", "times": 2, "reply": {"fault": {"kind": "http", "status": 500}}},
        {"name": "ok", "match": {"resumed": True}, "reply": {"message": "after retry"}},
    ]
    settings, scenario = _setup(tmp_path, rules, retries=3, retry_initial_wait=1.0)
    result, waits = _retry(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.OK
    assert result.retries == 2
    assert result.final_message == "after retry"
    assert len(waits) == 2
    assert all(w >= 1.0 for w in waits)
    calls = read_state(scenario)["invocations"]
    assert [c["resumed"] for c in calls] == [False, True, True]
    assert len({c["thread_id"] for c in calls}) == 1
    assert "resume" in calls[1]["argv"]


def test_retries_are_bounded(tmp_path: Path, git_repo: Path) -> None:
    rules = [{"name": "busy", "reply": {"fault": {"kind": "http", "status": 429}}}]
    settings, scenario = _setup(tmp_path, rules, retries=2)
    result, waits = _retry(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.TRANSIENT
    assert result.retries == 2
    assert len(waits) == 2


def test_permanent_is_not_retried(tmp_path: Path, git_repo: Path) -> None:
    rules = [{"name": "auth", "reply": {"fault": {"kind": "http", "status": 401}}}]
    settings, scenario = _setup(tmp_path, rules, retries=3)
    result, waits = _retry(_request(git_repo, scenario), settings)
    assert result.outcome is Outcome.PERMANENT
    assert result.retries == 0
    assert waits == []
    assert len(read_state(scenario)["invocations"]) == 1


def test_cancel_kills_codex_and_its_command(tmp_path: Path, git_repo: Path) -> None:
    marker = tmp_path / "cmd.pid"
    rules = [
        {
            "name": "slow",
            "reply": {"commands": [f"echo $$ > {marker}; exec sleep 300"]},
        }
    ]
    settings, scenario = _setup(tmp_path, rules, kill_grace=2.0)

    async def main() -> bool:
        with anyio.move_on_after(2.0) as scope:
            await run_step(_request(git_repo, scenario), settings)
        return scope.cancelled_caught

    assert anyio.run(main)
    pid = int(marker.read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
