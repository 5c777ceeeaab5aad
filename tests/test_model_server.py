"""The scripted model server's HTTP/SSE layer and rule matching, with a plain HTTP client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from orchestrator.testing.codex_home import ENV_KEY, prepare_codex_home
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer, serve
from tests.model_server_helpers import ENV_CONTEXT, message, post, turn_body, turn_headers

RULES: list[dict[str, Any]] = [
    {
        "name": "limited",
        "times": 1,
        "match": {"prompt_contains": "rate"},
        "reply": {"fault": {"kind": "http", "status": 429, "retry_after": 1.5}},
    },
    {"name": "rate-ok", "match": {"prompt_contains": "rate"}, "reply": {"message": "after 429"}},
    {
        "name": "edit",
        "match": {"prompt_regex": r"^edit \w+"},
        "reply": {
            "commands": ["echo one > a.txt", "echo two >> a.txt"],
            "patch": "*** Begin Patch\n*** Add File: b.txt\n+b\n*** End Patch",
            "message": "edited",
        },
    },
    {
        "name": "verdict",
        "match": {"schema_property": "verdict"},
        "reply": {"answer": {"verdict": "approve", "findings": []}},
    },
    {"name": "again", "match": {"resumed": True, "prompt_contains": "again"}},
    {"name": "cut", "match": {"prompt_contains": "cut"}, "reply": {"fault": {"kind": "cut"}}},
    {"name": "hang", "match": {"prompt_contains": "hang"}, "reply": {"fault": {"kind": "hang"}}},
    {
        "name": "slow",
        "match": {"prompt_contains": "slow"},
        "reply": {"fault": {"kind": "delay", "seconds": 0.3}, "message": "late"},
    },
    {"name": "hello", "match": {"prompt_contains": "hello", "has_schema": False}},
]


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(Scenario.model_validate({"rules": RULES})) as running:
        yield running


def output_items(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "response.output_item.done"]


def test_a_message_turn_streams_the_events_codex_needs(server: ScriptedModelServer) -> None:
    reply = post(server.url, turn_body("say hello"))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream"
    events = reply.events
    assert [e["type"] for e in events] == [
        "response.created",
        "response.output_item.added",
        "response.output_item.done",
        "response.completed",
    ]
    (item,) = output_items(events)
    assert item["type"] == "message"
    assert item["content"][0]["text"] == "done"
    completed = events[-1]["response"]
    assert completed["id"] == events[0]["response"]["id"]
    assert completed["usage"]["input_tokens"] == 100
    assert completed["usage"]["total_tokens"] == 110
    second = post(server.url, turn_body("hello again, new turn")).events
    assert second[-1]["response"]["id"] != completed["id"]
    assert [(r.rule, r.prompt, r.round) for r in server.requests] == [
        ("hello", "say hello", 0),
        ("hello", "hello again, new turn", 0),
    ]


def test_tool_rounds_play_commands_then_patch_then_message(server: ScriptedModelServer) -> None:
    headers = turn_headers("turn-1")
    items = [
        output_items(
            post(server.url, turn_body("edit files", tool_rounds=n), headers=headers).events
        )
        for n in range(4)
    ]
    assert [i[0]["type"] for i in items] == [
        "function_call",
        "function_call",
        "custom_tool_call",
        "message",
    ]
    assert json.loads(items[0][0]["arguments"]) == {"cmd": "echo one > a.txt"}
    assert items[0][0]["name"] == "exec_command"
    assert json.loads(items[1][0]["arguments"])["cmd"] == "echo two >> a.txt"
    assert items[2][0]["name"] == "apply_patch"
    assert items[2][0]["input"].endswith("*** End Patch\n")
    assert items[3][0]["content"][0]["text"] == "edited"
    call_ids = [i[0]["call_id"] for i in items[:3]]
    assert len(set(call_ids)) == 3
    assert [r.round for r in server.requests] == [0, 1, 2, 3]
    assert server.fired()["edit"] == 1  # counted once per turn


def test_output_schema_gets_the_structured_answer(server: ScriptedModelServer) -> None:
    schema = {"type": "object", "properties": {"verdict": {"type": "string"}}}
    events = post(server.url, turn_body("review this", schema=schema)).events
    (item,) = output_items(events)
    assert json.loads(item["content"][0]["text"]) == {"verdict": "approve", "findings": []}
    assert server.requests[0].body["text"]["format"]["schema"] == schema


def test_a_429_rule_used_up_lets_the_retry_fall_through(server: ScriptedModelServer) -> None:
    body = turn_body("rate me")
    first = post(server.url, body)
    assert first.status == 429
    assert first.headers["retry-after"] == "2"  # whole seconds, rounded up
    assert first.json["error"]["type"] == "rate_limit_exceeded"
    second = post(server.url, body)
    assert second.status == 200
    assert output_items(second.events)[0]["content"][0]["text"] == "after 429"
    assert [(r.rule, r.status) for r in server.requests] == [("limited", 429), ("rate-ok", 200)]


def test_no_matching_rule_is_a_400_naming_the_prompt(server: ScriptedModelServer) -> None:
    schema = {"type": "object", "properties": {"other": {}}}
    reply = post(server.url, turn_body("unknown request here", schema=schema))
    assert reply.status == 400
    text = reply.json["error"]["message"]
    assert "no scenario rule matches" in text
    assert "'unknown request here'" in text
    assert "other" in text
    assert server.requests[0].rule is None
    assert server.requests[0].status == 400


def test_the_environment_context_is_not_the_prompt_and_history_means_resumed(
    server: ScriptedModelServer,
) -> None:
    fresh = post(server.url, turn_body("again please"))
    assert fresh.status == 400  # "again" needs resumed=True
    history = [message("user", ENV_CONTEXT), message("user", "first"), message("assistant", "ok")]
    resumed = post(server.url, turn_body("again please", history=history))
    assert resumed.status == 200
    assert [r.rule for r in server.requests] == [None, "again"]
    assert server.requests[1].prompt == "again please"


def test_a_cut_stream_ends_without_response_completed(server: ScriptedModelServer) -> None:
    events = post(server.url, turn_body("cut it")).events
    types = [e["type"] for e in events]
    assert "response.completed" not in types
    assert output_items(events)[0]["content"][0]["text"] == "scripted failure"


def test_a_hang_sends_the_head_then_nothing(server: ScriptedModelServer) -> None:
    url = server.url.removeprefix("http://").split("/")[0]
    host, port = url.split(":")
    body = json.dumps(turn_body("hang now")).encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = f"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
        received = b""
        while b"response.created" not in received:
            received += sock.recv(65536)
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(65536)
    assert received.startswith(b"HTTP/1.1 200")


def test_a_delay_waits_then_replies(server: ScriptedModelServer) -> None:
    start = time.monotonic()
    reply = post(server.url, turn_body("slow one"))
    assert time.monotonic() - start >= 0.3
    assert output_items(reply.events)[0]["content"][0]["text"] == "late"


def test_chunked_bodies_and_other_paths(server: ScriptedModelServer) -> None:
    assert post(server.url, turn_body("hello chunked"), chunked=True).status == 200
    missing = post(server.url, b"", method="GET", path="/models")
    assert missing.status == 404
    assert "POST /v1/responses" in missing.json["error"]["message"]
    assert post(server.url, b"{not json").status == 400
    zstd = post(server.url, b"\x28\xb5", headers={"content-encoding": "zstd"})
    assert "content-encoding: zstd" in zstd.json["error"]["message"]
    assert [r.prompt for r in server.requests] == ["hello chunked"]  # others not recorded


def test_the_async_server_serves_inside_an_event_loop() -> None:
    scenario = Scenario.model_validate({"rules": [{"name": "any"}]})

    async def main() -> list[str | None]:
        async with serve(scenario) as running:
            reply = await anyio.to_thread.run_sync(post, running.url, turn_body("x"))
            assert reply.status == 200
            return [r.rule for r in running.requests]

    assert anyio.run(main) == ["any"]


def test_prepare_codex_home_writes_an_offline_provider(tmp_path: Path) -> None:
    env = prepare_codex_home(tmp_path / "home", base_url="http://127.0.0.1:9/v1", model="gpt-5.5")
    assert env["CODEX_HOME"] == str(tmp_path / "home")
    assert env[ENV_KEY]
    config = tomllib.loads((tmp_path / "home" / "config.toml").read_text(encoding="utf-8"))
    provider = config["model_providers"][config["model_provider"]]
    assert provider["base_url"] == "http://127.0.0.1:9/v1"
    assert provider["wire_api"] == "responses"
    assert provider["env_key"] == ENV_KEY
    assert provider["stream_max_retries"] <= 3
    assert config["features"]["plugins"] is False
    assert config["features"]["unbounded_connection_retries"] is False
    assert config["analytics"]["enabled"] is False


def test_model_server_command_prints_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"rules": [{"name": "hi", "reply": {"message": "hi"}}]}))
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "model-server",
            str(scenario),
            "--codex-home",
            str(home),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("model server: "):
                url = line.split(": ", 1)[1].strip()
                break
        assert url.startswith("http://127.0.0.1:")
        assert (home / "config.toml").read_text(encoding="utf-8").count(url) == 1
        assert post(url, turn_body("anything")).status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_a_bad_scenario_file_is_a_usage_error(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.json"
    scenario.write_text('{"rules": [{"nam": "typo"}]}')
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "model-server", str(scenario)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert str(scenario) in proc.stderr + proc.stdout
