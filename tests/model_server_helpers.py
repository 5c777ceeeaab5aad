"""Helpers for the scripted model server tests: a plain HTTP client and codex-like bodies."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import pytest

from orchestrator.codex.step import StepRequest
from orchestrator.process.tree import wait_gone
from orchestrator.testing.codex_home import prepare_codex_home
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer

ENV_CONTEXT = "<environment_context>\n  <cwd>/ws</cwd>\n</environment_context>"


@dataclass
class LiveCodex:
    """The scripted model server, a codex home pointed at it, and the repository codex
    works in: what a test of the real codex binary needs."""

    server: ScriptedModelServer
    env: dict[str, str]
    repo: Path

    def request(self, prompt: str, **kw: Any) -> StepRequest:
        """A step request in ``repo``; each gets its own transcript file."""
        n = len(self.server.requests)
        transcript = self.repo.parent / "transcripts" / f"{n}.jsonl"
        return StepRequest(prompt=prompt, cwd=self.repo, transcript=transcript, env=self.env, **kw)


@contextlib.contextmanager
def live_codex(home: Path, repo: Path, rules: list[dict[str, Any]]) -> Iterator[LiveCodex]:
    """A scripted model server playing ``rules`` and a codex home (in ``home``) for it."""
    with ScriptedModelServer(Scenario.model_validate({"rules": rules})) as server:
        env = prepare_codex_home(home, base_url=server.url)
        env["RUST_LOG"] = "off"
        yield LiveCodex(server, env, repo)


@contextlib.contextmanager
def scripted_model(
    rules: Sequence[dict[str, Any]], home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ScriptedModelServer]:
    """A scripted model server playing ``rules``; this process's environment points codex
    at it through a codex home made in ``home`` (for runs started in the test's process)."""
    with ScriptedModelServer(Scenario.model_validate({"rules": list(rules)})) as server:
        env = prepare_codex_home(home, base_url=server.url)
        for key, value in {**env, "RUST_LOG": "off"}.items():
            monkeypatch.setenv(key, value)
        yield server


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def events(self) -> list[dict[str, Any]]:
        """The ``data:`` payloads of an SSE body, in order."""
        lines = self.raw.decode().splitlines()
        return [
            json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")
        ]

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


def post(
    base_url: str,
    body: dict[str, Any] | bytes,
    *,
    headers: dict[str, str] | None = None,
    path: str = "/responses",
    method: str = "POST",
    timeout: float = 10.0,
    chunked: bool = False,
) -> Reply:
    """Send one request and read the whole response (until close for streams)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"content-type": "application/json", **(headers or {})}
    try:
        if chunked:
            conn.request(
                method, url.path + path, body=iter([data]), headers=sent, encode_chunked=True
            )
        else:
            conn.request(method, url.path + path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
    finally:
        conn.close()


def message(role: str, text: str) -> dict[str, Any]:
    kind = "output_text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}


def turn_body(
    prompt: str,
    *,
    tool_rounds: int = 0,
    history: list[dict[str, Any]] | None = None,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A request body shaped like codex's: instructions, history, context, prompt, tool rounds."""
    items: list[dict[str, Any]] = [message("developer", "base instructions")]
    items.extend(history or [])
    items += [message("user", ENV_CONTEXT), message("user", prompt)]
    for n in range(tool_rounds):
        items.append({"type": "function_call", "call_id": f"c{n}", "name": "exec_command"})
        items.append({"type": "function_call_output", "call_id": f"c{n}", "output": "ok"})
    body: dict[str, Any] = {"model": "gpt-5.5", "stream": True, "input": items}
    body["text"] = {"verbosity": "low"}
    if schema is not None:
        body["text"]["format"] = {
            "type": "json_schema",
            "name": "codex_output_schema",
            "strict": True,
            "schema": schema,
        }
    return body


def turn_headers(turn_id: str) -> dict[str, str]:
    return {"x-codex-turn-metadata": json.dumps({"turn_id": turn_id, "request_kind": "turn"})}


def group_members(pgid: int) -> list[psutil.Process]:
    """Processes of the group that are still alive (zombies awaiting reaping do not count)."""
    alive = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return alive


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL a child started with start_new_session=True and its whole group; return
    once every member is gone (a killed process dies when the kernel next runs it)."""
    members = group_members(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    wait_gone(members, timeout=10)


def codex_argv(codex: Path, workspace: Path, *extra: str) -> list[str]:
    return [str(codex), "exec", "--json", "--skip-git-repo-check", "-C", str(workspace), *extra]
