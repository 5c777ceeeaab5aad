"""A fake ``codex`` executable: the ``codex exec --json`` surface, scripted by a scenario.

Run as ``python -m orchestrator.testing.fake_codex exec --json ... -- PROMPT``
(:func:`install_fake_codex` writes a ``codex`` shim that does this). The scenario file comes
from ``FAKE_CODEX_SCENARIO``; rule fire counts, threads and their cumulative usage, and one
record per invocation live in ``<scenario>.state.json`` (updated under an fcntl lock, so they
survive across processes). Each invocation is one turn: the first rule whose match fits and
whose ``times`` is not used up plays it (see :mod:`orchestrator.testing.scenario`).

Like codex 0.169: a prompt argument with non-TTY stdin also reads stdin to EOF; ``-s``/``-C``
after ``resume`` and unknown flags exit 2; resuming an unknown thread exits 1 ("no rollout
found"); outside a git repository without ``--skip-git-repo-check`` exits 1; SIGINT kills the
running command and exits 1; the ``-o`` file gets the final message (a failed run leaves an
existing file alone). Commands really run with ``bash -c`` in the workspace; the sandbox mode is
accepted and ignored. Patches are applied by :mod:`fake_patch`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from orchestrator.paths import in_git_work_tree
from orchestrator.testing.fake_argv import VERSION, Invocation, fail, parse_args, read_prompt
from orchestrator.testing.fake_patch import PatchError, apply_patch
from orchestrator.testing.fake_state import add_usage, locked_state
from orchestrator.testing.fake_state import read_state as read_state  # re-exported
from orchestrator.testing.scenario import Fault, Reply, Rule, Scenario

_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip
_URL = "http://127.0.0.1/v1/responses"
_current_child: subprocess.Popen[bytes] | None = None


def _matches(rule: Rule, prompt: str, schema_props: set[str] | None, resumed: bool) -> bool:
    m = rule.match
    return (
        (m.prompt_contains is None or m.prompt_contains in prompt)
        and (m.prompt_regex is None or re.search(m.prompt_regex, prompt) is not None)
        and (m.has_schema is None or m.has_schema == (schema_props is not None))
        and (m.schema_property is None or m.schema_property in (schema_props or set()))
        and (m.resumed is None or m.resumed == resumed)
    )


# --- output --------------------------------------------------------------------------


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Turn:
    """One played turn: item ids, the workspace, and the events it prints."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.next_item = 0
        self.rounds = 0

    def item_id(self) -> str:
        self.next_item += 1
        return f"item_{self.next_item - 1}"

    def run_command(self, command: str) -> None:
        global _current_child
        self.rounds += 1
        item: dict[str, Any] = {
            "id": self.item_id(),
            "type": "command_execution",
            "command": f"/bin/bash -lc {_shell_quote(command)}",
            "aggregated_output": "",
            "exit_code": None,
            "status": "in_progress",
        }
        emit({"type": "item.started", "item": item})
        child = subprocess.Popen(
            ["bash", "-c", command],
            cwd=self.workspace,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _current_child = child
        output = _communicate(child)
        _current_child = None
        status = "completed" if child.returncode == 0 else "failed"
        item.update(
            aggregated_output=output.decode("utf-8", "replace"),
            exit_code=child.returncode,
            status=status,
        )
        emit({"type": "item.completed", "item": item})

    def apply(self, patch: str) -> None:
        self.rounds += 1
        try:
            changed = apply_patch(patch, self.workspace)
        except (PatchError, OSError) as exc:
            sys.stderr.write(f"ERROR codex_core::tools::router: error={exc}\n")
            return
        changes = [{"path": str(p), "kind": kind} for p, kind in changed]
        item = {"id": self.item_id(), "type": "file_change", "changes": changes}
        emit({"type": "item.started", "item": {**item, "status": "in_progress"}})
        emit({"type": "item.completed", "item": {**item, "status": "completed"}})

    def message(self, text: str) -> None:
        emit({"type": "item.completed", "item": _agent(self.item_id(), text)})

    def flood(self, size: int) -> None:
        """Half the bytes as many ordinary lines, half as one giant line."""
        half = size // 2
        block = ("flood " * 10 + "\n") * 1000
        sent = 0
        while sent < half:
            text = block[: half - sent]
            emit({"type": "item.completed", "item": _command(self.item_id(), "flood", text)})
            sent += len(text)
        head = json.dumps(_command(self.item_id(), "flood giant", "@@"), separators=(",", ":"))
        before, after = head.split("@@")
        out = sys.stdout
        out.write('{"type":"item.completed","item":' + before)
        chunk = "x" * 65536
        left = size - half
        while left > 0:
            out.write(chunk[:left])
            left -= len(chunk)
        out.write(after + "}\n")
        out.flush()


def _agent(item_id: str, text: str) -> dict[str, Any]:
    return {"id": item_id, "type": "agent_message", "text": text}


def _command(item_id: str, command: str, output: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "command_execution",
        "command": f"/bin/bash -lc '{command}'",
        "aggregated_output": output,
        "exit_code": 0,
        "status": "completed",
    }


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _http_message(fault: Fault) -> str:
    status = fault.status
    reason = _REASONS.get(status, "Error")
    if status == 429:
        if "quota" in fault.message.lower():
            return "Quota exceeded. Check your plan and billing details."
        return "exceeded retry limit, last status: 429 Too Many Requests"
    if status == 500:
        return "We\u2019re currently experiencing high demand, which may cause temporary errors."
    if status == 400:  # codex quotes the body: the Responses API's error object
        return _bad_request(fault.message)
    return f"unexpected status {status} {reason}: {fault.message}, url: {_URL}"


def _bad_request(message: str) -> str:
    error = {"message": message, "type": "invalid_request_error", "code": None, "param": None}
    return json.dumps({"error": error})


def _failed(message: str, reconnects: int = 0, reason: str = "") -> NoReturn:
    for n in range(1, reconnects + 1):
        emit({"type": "error", "message": f"Reconnecting... {n}/{reconnects} ({reason})"})
    emit({"type": "error", "message": message})
    emit({"type": "turn.failed", "error": {"message": message}})
    raise SystemExit(1)


def usage_limit_message(resets_in_seconds: int | None, now: float | None = None) -> str:
    """codex 0.169.0's words for a usage limit (codex-exec-facts 4.4)."""
    if resets_in_seconds is None:
        return "You’ve hit your usage limit. Try again later."
    start = time.time() if now is None else now
    at = datetime.fromtimestamp(start + resets_in_seconds)
    clock = at.strftime("%I:%M %p").lstrip("0")
    if at.date() != datetime.fromtimestamp(start).date():
        day = at.day
        suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        clock = f"{at.strftime('%b')} {day}{suffix}, {at.year} {clock}"
    return (
        "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
        f"https://chatgpt.com/settings/usage to purchase more credits or try again at {clock}."
    )


# A signal landing between Python's last handler check and a blocking call waits for that
# call (a SIGINT just before ``time.sleep(3600)`` hung the fake): so wait in short slices.
_SLICE = 0.05


def _hang() -> NoReturn:
    while True:
        time.sleep(_SLICE)


def _communicate(child: subprocess.Popen[bytes]) -> bytes:
    """``child.communicate()`` in slices, so a SIGINT is handled while it runs."""
    while True:
        try:
            output, _ = child.communicate(timeout=_SLICE)
        except subprocess.TimeoutExpired:
            continue
        return output


def play_fault(fault: Fault, turn: Turn, reply: Reply) -> None:
    """Play a fault; returns only for faults that go on with the reply."""
    kind = fault.kind
    if kind == "usage_limit":
        _failed(usage_limit_message(fault.resets_in_seconds))
    if kind == "http":
        retried = fault.status >= 500 or fault.status in (401, 403) or bool(fault.retry_after)
        message = _http_message(fault)
        _failed(message, 2 if retried else 0, message)
    if kind == "cut":
        turn.message(reply.message[: max(1, len(reply.message) // 2)])
        reason = "stream disconnected before completion: stream closed before response.completed"
        _failed(reason, 2, reason)
    if kind == "hang":
        _hang()
    if kind == "ignore_sigterm":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _hang()
    if kind == "crash":
        sys.stdout.flush()
        os._exit(fault.exit_code)
    if kind == "delay":
        time.sleep(fault.seconds)
    elif kind == "flood":
        turn.flood(fault.bytes)
    elif kind == "malformed":
        sys.stdout.write("this is not json {\n")
        sys.stdout.write('{"type":"item.completed","item":{"id":"item_9\n')
        sys.stdout.flush()


# --- the program ---------------------------------------------------------------------


def _on_sigint(signo: int, frame: object) -> None:
    """Like codex: abort the turn, kill the running command, exit 1 with no turn event."""
    child = _current_child
    if child is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    os._exit(1)


def _schema_properties(inv: Invocation) -> set[str] | None:
    schema_file = inv.one("schema")
    if schema_file is None:
        return None
    try:
        text = Path(schema_file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"Failed to read output schema file {schema_file}: {exc}", 1)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"Output schema file {schema_file} is not valid JSON: {exc}", 1)
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return set(props) if isinstance(props, dict) else set()


def _write_last_message(inv: Invocation, text: str | None) -> None:
    target = inv.one("last_message")
    if target is None:
        return
    path = Path(target)
    if text is not None:
        path.write_text(text, encoding="utf-8")
    elif not path.exists():
        path.write_text("", encoding="utf-8")


def run(argv: list[str]) -> int:
    """The fake ``codex`` program."""
    if argv[:1] == ["--version"]:
        sys.stdout.write(VERSION + "\n")
        return 0
    if argv[:1] != ["exec"]:
        fail("fake codex: only `codex exec` and `codex --version` are supported", 2)
    inv = parse_args(argv[1:])
    scenario_env = os.environ.get("FAKE_CODEX_SCENARIO")
    if not scenario_env:
        fail("Error loading config.toml: fake codex: FAKE_CODEX_SCENARIO is not set", 1)
    scenario_path = Path(scenario_env)
    scenario = Scenario.load(scenario_path)
    workspace = Path(inv.one("cd") or os.getcwd()).resolve()
    if "--skip-git-repo-check" not in inv.flags and not in_git_work_tree(workspace):
        fail("Not inside a trusted directory and --skip-git-repo-check was not specified.", 1)
    props = _schema_properties(inv)
    prompt = read_prompt(inv)
    signal.signal(signal.SIGINT, _on_sigint)
    resumed = inv.resume is not None
    with locked_state(scenario_path) as state:
        if resumed and inv.resume not in state["threads"]:
            fail(
                "Error: thread/resume: thread/resume failed: no rollout found for thread id "
                f"{inv.resume} (code -32600)",
                1,
            )
        thread_id = inv.resume or str(uuid.uuid4())
        state["threads"].setdefault(thread_id, {"usage": {}, "turns": 0})
        chosen: Rule | None = None
        for rule in scenario.rules:
            used = state["fired"].get(rule.name, 0)
            if rule.times is not None and used >= rule.times:
                continue
            if _matches(rule, prompt, props, resumed):
                chosen = rule
                state["fired"][rule.name] = used + 1
                break
        state["invocations"].append(
            {
                "argv": argv,
                "prompt": prompt,
                "resumed": resumed,
                "thread_id": thread_id,
                "rule": chosen.name if chosen else None,
                "model": inv.one("model"),
                "sandbox": inv.one("sandbox"),
            }
        )
    emit({"type": "thread.started", "thread_id": thread_id})
    emit({"type": "turn.started"})
    if chosen is None:
        _write_last_message(inv, None)
        # what the scripted model server answers: a 400 naming the prompt
        _failed(_bad_request(f"no scenario rule matches the prompt: {prompt[:200]!r}"))
    turn = Turn(workspace)
    reply = chosen.reply
    fault = reply.fault
    try:
        if fault is not None and not fault.after_commands:
            play_fault(fault, turn, reply)
        for command in reply.commands:
            turn.run_command(command if isinstance(command, str) else command.cmd)
        if reply.patch is not None:
            turn.apply(reply.patch)
        if fault is not None and fault.after_commands:
            play_fault(fault, turn, reply)
    except SystemExit:
        _write_last_message(inv, None)
        raise
    text = json.dumps(reply.answer) if reply.answer is not None else reply.message
    turn.message(text)
    _write_last_message(inv, text)
    usage = add_usage(scenario_path, thread_id, requests=turn.rounds + 1)
    emit({"type": "turn.completed", "usage": usage})
    return 0


def install_fake_codex(directory: Path) -> Path:
    """Write an executable ``codex`` shim in ``directory`` that runs this fake."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "codex"
    shim.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m orchestrator.testing.fake_codex "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return shim


def main() -> int:
    try:
        return run(sys.argv[1:])
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
