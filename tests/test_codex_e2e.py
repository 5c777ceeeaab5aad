"""run_step with the real pinned codex binary against the scripted model server."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

from orchestrator.codex.runner import run_step, run_step_with_retries
from orchestrator.codex.step import Outcome, StepRequest, StepResult
from orchestrator.settings.model import CodexSettings
from tests.model_server_helpers import LiveCodex, live_codex

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RULES: list[dict[str, Any]] = [
    {
        "name": "edit",
        "match": {"prompt_contains": "create the file", "resumed": False},
        "reply": {"commands": ["echo created > made.txt"], "message": "file made"},
    },
    {
        "name": "continue",
        "match": {"resumed": True, "prompt_contains": "and now"},
        "reply": {"message": "continued"},
    },  # fmt: skip
    {
        "name": "structured",
        "match": {"schema_property": "summary"},
        "reply": {"answer": {"summary": "all good"}},
    },
    {
        "name": "throttled",
        "times": 1,
        "match": {"prompt_contains": "throttle"},
        "reply": {"fault": {"kind": "http", "status": 429}},
    },  # fmt: skip
    {
        "name": "after-throttle",
        "match": {"prompt_contains": "throttle"},
        "reply": {"message": "through"},
    },  # fmt: skip
    {
        "name": "silent",
        "match": {"prompt_contains": "say nothing"},
        "reply": {"fault": {"kind": "hang"}},
    },  # fmt: skip
    {
        "name": "denied",
        "match": {"prompt_contains": "locked"},
        "reply": {"fault": {"kind": "http", "status": 401, "message": "bad key"}},
    },  # fmt: skip
]


@pytest.fixture
def live(tmp_path: Path, git_repo: Path) -> Iterator[LiveCodex]:
    with live_codex(tmp_path / "codex-home", git_repo, RULES) as env:
        yield env


@pytest.fixture
def settings(codex_bin: Path) -> CodexSettings:
    return CodexSettings(
        binary=str(codex_bin), model="gpt-5.5", step_timeout=90, stall_timeout=60, kill_grace=3
    )


def _run(request: StepRequest, settings: CodexSettings) -> StepResult:
    async def main() -> StepResult:
        return await run_step(request, settings)

    return anyio.run(main)


def test_command_edits_a_file_then_resume_carries_the_conversation(
    live: LiveCodex, settings: CodexSettings
) -> None:
    first = _run(live.request("please create the file"), settings)
    assert first.outcome is Outcome.OK, first.error
    assert (live.repo / "made.txt").read_text() == "created\n"
    assert [c.exit_code for c in first.commands] == [0]
    assert "echo created > made.txt" in first.commands[0].command
    assert first.final_message == "file made"
    assert first.thread_id
    assert first.usage.input_tokens > 0

    second = _run(live.request("and now continue", resume_thread=first.thread_id), settings)
    assert second.outcome is Outcome.OK, second.error
    assert second.thread_id == first.thread_id
    assert second.final_message == "continued"
    assert second.usage.input_tokens > first.usage.input_tokens  # cumulative per thread
    last_body = json.dumps(live.server.requests[-1].body)
    assert "please create the file" in last_body


def test_structured_answer(live: LiveCodex, settings: CodexSettings, tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"summary": {"type": "string"}},
                "required": ["summary"],
                "additionalProperties": False,
            }
        )
    )
    out = tmp_path / "last.txt"
    result = _run(live.request("summarise", output_schema=schema, last_message=out), settings)
    assert result.outcome is Outcome.OK, result.error
    assert json.loads(result.final_message or "") == {"summary": "all good"}
    assert json.loads(out.read_text()) == {"summary": "all good"}
    assert live.server.requests[-1].body["text"]["format"]["schema"]["required"] == ["summary"]


def test_429_then_success_is_retried_on_the_same_thread(
    live: LiveCodex, settings: CodexSettings
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> StepResult:
        return await run_step_with_retries(live.request("throttle me"), settings, sleep=sleep)

    result = anyio.run(main)
    assert result.outcome is Outcome.OK, result.error
    assert result.retries == 1
    assert len(waits) == 1
    assert result.final_message == "through"
    thread_headers = {r.headers.get("thread-id") for r in live.server.requests}
    assert thread_headers == {result.thread_id}


def test_401_is_permanent_and_not_retried(live: LiveCodex, settings: CodexSettings) -> None:
    async def sleep(seconds: float) -> None:
        raise AssertionError("a permanent failure must not be retried")

    async def main() -> StepResult:
        return await run_step_with_retries(live.request("locked door"), settings, sleep=sleep)

    result = anyio.run(main)
    assert result.outcome is Outcome.PERMANENT
    assert result.retries == 0
    assert result.error is not None
    assert "401" in result.error


def _codex_processes_in(repo: Path) -> list[psutil.Process]:
    alive = []
    for proc in psutil.process_iter(["cmdline", "cwd", "status"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if proc.info["cwd"] == str(repo) and "codex" in " ".join(proc.info["cmdline"] or []):
                alive.append(proc)
    return alive


def test_a_silent_model_is_ended_by_the_stall_timeout(
    live: LiveCodex, settings: CodexSettings
) -> None:
    quick = settings.model_copy(update={"stall_timeout": 2.0, "kill_grace": 1.0})
    result = _run(live.request("say nothing at all"), quick)
    assert result.outcome is Outcome.STALLED
    assert result.duration_s < 10
    assert [r.rule for r in live.server.requests] == ["silent"]
    assert result.pid is not None
    assert not psutil.pid_exists(result.pid) or (
        psutil.Process(result.pid).status() == psutil.STATUS_ZOMBIE
    )
    assert _codex_processes_in(live.repo) == []
