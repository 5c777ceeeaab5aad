"""Long work is not a stall: the real codex binary, a scripted model that polls its commands.

While a command runs, ``codex exec --json`` prints nothing; the model polls it with
``write_stdin`` and codex records each poll in the session file. Stall timeouts of
3 s against 8 s commands keep these tests short while showing the same thing a
40-minute test suite under a 5-minute stall timeout would.
"""

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
from orchestrator.run.session import start_run
from orchestrator.settings.model import CodexSettings, LoopSettings, Settings
from orchestrator.store.state import list_runs
from tests.model_server_helpers import LiveCodex, live_codex, scripted_model
from tests.supervisor_helpers import PLAN_REL, git, review_answer, rule, step_answer, write_plan

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STALL = 3.0  # above codex's start-up on a loaded machine, far below the commands


def _long(cmd: str, **how: Any) -> dict[str, Any]:
    """A command the model starts with a short yield and then polls (as a real model does)."""
    return {"cmd": cmd, "yield_ms": 250, "poll_ms": 1000, **how}


RULES: list[dict[str, Any]] = [
    {
        "name": "build",
        "match": {"prompt_contains": "run the build"},
        "reply": {"commands": [_long("sleep 8; echo built > built.txt")], "message": "built"},
    },
    {
        "name": "endless",
        "match": {"prompt_contains": "run forever"},
        "reply": {"commands": [_long("sleep 600")], "message": "never reached"},
    },
    {
        "name": "walks away",
        "match": {"prompt_contains": "start and walk away"},
        "reply": {
            "commands": [_long("sleep 600", polls=0)],
            "fault": {"kind": "hang", "after_commands": True},
        },
    },
    {
        "name": "silent",
        "match": {"prompt_contains": "say nothing"},
        "reply": {"fault": {"kind": "hang"}},
    },
]


def _last_call(body: dict[str, Any]) -> str | None:
    calls = [
        i for i in body.get("input", []) if isinstance(i, dict) and i.get("type") == "function_call"
    ]
    return calls[-1].get("name") if calls else None


@pytest.fixture
def live(tmp_path: Path, git_repo: Path) -> Iterator[LiveCodex]:
    with live_codex(tmp_path / "codex-home", git_repo, RULES) as env:
        yield env


@pytest.fixture
def settings(codex_bin: Path) -> CodexSettings:
    return CodexSettings(
        binary=str(codex_bin),
        model="gpt-5.5",
        step_timeout=90,
        stall_timeout=STALL,
        command_timeout=60,
        kill_grace=1,
        retries=0,
    )


def _run(request: StepRequest, settings: CodexSettings) -> StepResult:
    async def main() -> StepResult:
        return await run_step_with_retries(request, settings)

    return anyio.run(main)


def _processes_in(repo: Path) -> list[psutil.Process]:
    alive = []
    for proc in psutil.process_iter(["cmdline", "cwd", "status"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if proc.info["cwd"] == str(repo):  # codex, and the commands it started
                alive.append(proc)
    return alive


def test_a_polled_command_longer_than_the_stall_timeout_completes(
    live: LiveCodex, settings: CodexSettings
) -> None:
    result = _run(live.request("please run the build"), settings)
    assert result.outcome is Outcome.OK, result.error
    assert result.retries == 0
    assert result.duration_s > 2 * STALL  # the command really outlived the stall timeout
    assert (live.repo / "built.txt").read_text() == "built\n"
    assert [c.exit_code for c in result.commands] == [0]
    polls = [r for r in live.server.requests if _last_call(r.body) == "write_stdin"]
    assert polls, "the model polled the running command with write_stdin"


def test_a_command_past_command_timeout_ends_the_step_naming_the_command(
    live: LiveCodex, settings: CodexSettings
) -> None:
    bounded = settings.model_copy(update={"command_timeout": 5.0})
    result = _run(live.request("run forever please"), bounded)
    assert result.outcome is Outcome.TIMEOUT
    assert result.error is not None
    assert "sleep 600" in result.error
    assert "codex.command_timeout" in result.error
    assert result.duration_s < 30
    assert "the model polled it" in result.error  # seen in the session file, not on stdout
    assert _processes_in(live.repo) == []


def test_a_model_that_stops_polling_a_command_that_never_ends_is_caught(
    live: LiveCodex, settings: CodexSettings
) -> None:
    bounded = settings.model_copy(update={"command_timeout": 3.0})
    result = _run(live.request("start and walk away"), bounded)
    assert result.outcome is Outcome.TIMEOUT
    assert result.error is not None
    assert "sleep 600" in result.error
    assert "the model never polled it" in result.error
    assert _processes_in(live.repo) == []


def test_a_silent_idle_codex_is_still_a_stall_and_says_what_went_quiet(
    live: LiveCodex, settings: CodexSettings
) -> None:
    # 2 s: well before codex's own retry of the silent stream (5 s here) prints an event
    quick = settings.model_copy(update={"stall_timeout": 2.0})

    async def main() -> StepResult:
        return await run_step(live.request("say nothing at all"), quick)

    result = anyio.run(main)
    assert result.outcome is Outcome.STALLED
    assert result.duration_s < 10
    assert result.error is not None
    assert "no JSONL event for" in result.error
    assert "no command in flight" in result.error
    assert "session file" in result.error
    assert _processes_in(live.repo) == []


def test_a_milestone_with_a_long_polled_command_passes_in_one_implement_step(
    git_repo: Path, codex_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plan(git_repo, [("Build it", ["grep -qx built built.txt"])])
    implement = rule(
        "implement",
        contains="step=implement milestone=1 ",
        answer=step_answer("built it"),
    )
    implement["reply"]["commands"] = [_long("sleep 8; echo built > built.txt")]
    review = rule("review", schema="verdict", answer=review_answer("approve"))
    with scripted_model([implement, review], git_repo.parent / "codex-home", monkeypatch) as server:
        settings = Settings(
            codex=CodexSettings(
                binary=str(codex_bin),
                model="gpt-5.5",
                stall_timeout=STALL,
                kill_grace=1,
            ),
            loop=LoopSettings(max_attempts=2),
        )
        code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
        fired = [r.rule for r in server.requests]
    state = list_runs(git_repo)[0]
    assert code == 0, state.stop_reason
    milestone = state.milestones[0]
    assert milestone.status == "passed"
    assert milestone.attempts == 0
    kinds = [s.kind for s in milestone.steps if s.kind in ("implement", "repair")]
    assert kinds == ["implement"]
    assert fired.count("implement") >= 3  # the command round, its polls, the answer
    assert git(git_repo, "log", "-1", "--format=%s") != "add plan"
    events = (git_repo / ".agent/runs" / state.run_id / "events.jsonl").read_text()
    records = [json.loads(line) for line in events.splitlines()]
    names = [r["event"] for r in records]
    assert "codex_command_started" in names
    assert "codex_command_running" in names
    assert "step_retry" not in names
