"""The real pinned codex binary against the scripted model server."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.testing.codex_home import prepare_codex_home
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer
from tests.model_server_helpers import codex_argv, group_members, kill_group

pytestmark = pytest.mark.e2e

PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+patched line\n*** End Patch"
SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "needs_human": {"type": "boolean"}},
    "required": ["summary", "needs_human"],
    "additionalProperties": False,
}
RULES: list[dict[str, Any]] = [
    {
        "name": "create",
        "match": {"prompt_contains": "create the file"},
        "reply": {"commands": ["echo created > made.txt"], "message": "file made"},
    },
    {
        "name": "edit",
        "match": {"prompt_contains": "edit several"},
        "reply": {
            "commands": ["printf 'a\\n' > multi.txt", "printf 'b\\n' >> multi.txt"],
            "patch": PATCH,
            "message": "edits done",
        },
    },
    {"name": "continue", "match": {"resumed": True}, "reply": {"message": "continued"}},
    {
        "name": "structured",
        "match": {"schema_property": "summary"},
        "reply": {"answer": {"summary": "all good", "needs_human": False}},
    },
    {
        "name": "throttled",
        "times": 1,
        "match": {"prompt_contains": "throttle"},
        "reply": {"fault": {"kind": "http", "status": 429, "retry_after": 1}},
    },
    {"name": "after-throttle", "match": {"prompt_contains": "throttle"}},
    {
        "name": "broken",
        "match": {"prompt_contains": "server error"},
        "reply": {"fault": {"kind": "http", "status": 500}},
    },
    {
        "name": "denied",
        "match": {"prompt_contains": "unauthorized"},
        "reply": {"fault": {"kind": "http", "status": 401, "message": "bad key"}},
    },
    {"name": "silent", "match": {"prompt_contains": "hang"}, "reply": {"fault": {"kind": "hang"}}},
    {"name": "first", "match": {"prompt_contains": "first"}, "reply": {"message": "first answer"}},
]


@dataclass
class Run:
    rc: int
    events: list[dict[str, Any]]
    stderr: str

    def items(self, kind: str) -> list[dict[str, Any]]:
        return [
            e["item"]
            for e in self.events
            if e["type"] == "item.completed" and e["item"]["type"] == kind
        ]

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1]


@dataclass
class Codex:
    binary: Path
    server: ScriptedModelServer
    workspace: Path
    env: dict[str, str]

    def argv(self, *args: str) -> list[str]:
        return codex_argv(self.binary, self.workspace, "-s", "workspace-write", *args)

    def run(self, *args: str, timeout: float = 60) -> Run:
        proc = subprocess.run(
            self.argv(*args),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        return Run(proc.returncode, events, proc.stderr)


@pytest.fixture
def codex(codex_bin: Path, tmp_path: Path) -> Iterator[Codex]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    with ScriptedModelServer(Scenario.model_validate({"rules": RULES})) as server:
        env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
        env.update(server.codex_env(tmp_path / "codex-home"))
        yield Codex(codex_bin, server, workspace, env)


def test_a_shell_command_creates_a_file(codex: Codex) -> None:
    run = codex.run("--", "please create the file")
    assert run.rc == 0, run.stderr
    assert (codex.workspace / "made.txt").read_text() == "created\n"
    (command,) = run.items("command_execution")
    assert "echo created > made.txt" in command["command"]
    assert command["exit_code"] == 0
    assert [m["text"] for m in run.items("agent_message")] == ["file made"]
    assert run.last["type"] == "turn.completed"
    assert run.last["usage"]["input_tokens"] == 200  # two responses of 100
    requests = codex.server.requests
    assert [(r.rule, r.round) for r in requests] == [("create", 0), ("create", 1)]
    tools = {t.get("name") for t in requests[0].body["tools"]}
    assert {"exec_command", "apply_patch"} <= tools
    outputs = [i for i in requests[1].body["input"] if i["type"] == "function_call_output"]
    assert "Process exited with code 0" in outputs[0]["output"]


def test_several_commands_and_a_patch_edit_the_workspace(codex: Codex) -> None:
    run = codex.run("--", "edit several files")
    assert run.rc == 0, run.stderr
    assert (codex.workspace / "multi.txt").read_text() == "a\nb\n"
    assert (codex.workspace / "notes.txt").read_text() == "patched line\n"
    assert len(run.items("command_execution")) == 2
    (change,) = run.items("file_change")
    assert change["changes"] == [{"path": str(codex.workspace / "notes.txt"), "kind": "add"}]
    assert [r.round for r in codex.server.requests] == [0, 1, 2, 3]
    last_input = codex.server.requests[-1].body["input"]
    patch_out = [i for i in last_input if i["type"] == "custom_tool_call_output"]
    assert "Success" in patch_out[0]["output"]


def test_a_resumed_turn_carries_the_earlier_conversation(codex: Codex) -> None:
    first = codex.run("--", "the first prompt")
    assert first.rc == 0, first.stderr
    thread = first.events[0]["thread_id"]
    second = codex.run("resume", thread, "--", "and now continue")
    assert second.rc == 0, second.stderr
    assert second.events[0]["thread_id"] == thread
    assert [m["text"] for m in second.items("agent_message")] == ["continued"]
    resumed = codex.server.requests[-1]
    assert (resumed.rule, resumed.prompt) == ("continue", "and now continue")
    texts = json.dumps(resumed.body["input"])
    assert "the first prompt" in texts
    assert "first answer" in texts


def test_an_output_schema_gets_the_structured_answer(codex: Codex, tmp_path: Path) -> None:
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA))
    run = codex.run("--output-schema", str(schema_file), "--", "summarise the work")
    assert run.rc == 0, run.stderr
    (answer,) = run.items("agent_message")
    assert json.loads(answer["text"]) == {"summary": "all good", "needs_human": False}
    fmt = codex.server.requests[0].body["text"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["schema"] == SCHEMA


def test_a_429_with_retry_after_is_retried_then_succeeds(codex: Codex) -> None:
    start = time.monotonic()
    run = codex.run("--", "throttle me")
    assert run.rc == 0, run.stderr
    assert [(r.rule, r.status) for r in codex.server.requests] == [
        ("throttled", 429),
        ("after-throttle", 200),
    ]
    assert any(e["type"] == "error" and "429" in e["message"] for e in run.events)
    assert time.monotonic() - start >= 1.0  # Retry-After was honoured


def test_a_persistent_500_makes_codex_give_up(codex: Codex) -> None:
    run = codex.run("--", "server error always")
    assert run.rc == 1
    assert run.last["type"] == "turn.failed"
    # (stream_max_retries 2 + 1) x (request_max_retries 1 + 1) requests
    assert [r.status for r in codex.server.requests] == [500] * 6


def test_a_401_fails_the_turn_with_the_message(codex: Codex) -> None:
    run = codex.run("--", "unauthorized call")
    assert run.rc == 1
    assert run.last["type"] == "turn.failed"
    assert "401" in run.last["error"]["message"]
    assert "bad key" in run.last["error"]["message"]
    assert {r.status for r in codex.server.requests} == {401}


def test_an_unmatched_turn_fails_with_the_servers_explanation(codex: Codex) -> None:
    run = codex.run("--", "nobody scripted this")
    assert run.rc == 1
    assert "no scenario rule matches" in run.last["error"]["message"]
    assert "nobody scripted this" in run.last["error"]["message"]


def test_a_hang_ends_by_codex_idle_timeout(codex: Codex, tmp_path: Path) -> None:
    server = codex.server
    short = prepare_codex_home(
        tmp_path / "idle-home",
        base_url=server.url,
        stream_max_retries=0,
        stream_idle_timeout_ms=800,
    )
    env = {**codex.env, **short}
    proc = subprocess.run(
        codex.argv("--", "hang forever"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 1
    last = json.loads(proc.stdout.splitlines()[-1])
    assert last["type"] == "turn.failed"
    assert "idle timeout" in last["error"]["message"]
    assert [r.rule for r in server.requests] == ["silent"]


def test_a_hung_codex_is_killed_with_its_process_group(codex: Codex) -> None:
    proc = subprocess.Popen(
        codex.argv("--", "hang here"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=codex.env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60  # the bound only guards against a hang
        while not codex.server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r.rule for r in codex.server.requests] == ["silent"]
        time.sleep(0.3)
        assert proc.poll() is None  # codex is waiting on the silent stream
    finally:
        kill_group(proc)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    assert "turn.completed" not in out
    assert "turn.failed" not in out
    assert group_members(proc.pid) == []  # the native binary went with the group
