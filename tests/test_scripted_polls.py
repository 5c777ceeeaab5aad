"""The scripted model polls a running command with write_stdin, as a real model does."""

from __future__ import annotations

import json
from typing import Any

from orchestrator.testing.player import Player
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.turns import read_turn
from tests.model_server_helpers import message

RUNNING = "Chunk ID: a\nWall time: 0.25 seconds\nProcess running with session ID 4242\nOutput:\n"
EXITED = "Chunk ID: b\nWall time: 5.0 seconds\nProcess exited with code 0\nOutput:\nok\n"


def _body(*calls: tuple[str, str]) -> dict[str, Any]:
    """A turn's request after the given (tool name, output) rounds."""
    items: list[dict[str, Any]] = [message("user", "run the build")]
    for n, (name, output) in enumerate(calls):
        items.append({"type": "function_call", "call_id": f"c{n}", "name": name})
        items.append({"type": "function_call_output", "call_id": f"c{n}", "output": output})
    return {"model": "gpt-5.5", "input": items}


def _player(**command: Any) -> Player:
    cmd = {"cmd": "make build", "yield_ms": 250, **command}
    return Player(Scenario.model_validate({"rules": [
        {"name": "build", "reply": {"commands": [cmd, "echo next"], "message": "built"}},
    ]}))  # fmt: skip


def _answer(player: Player, body: dict[str, Any]) -> dict[str, Any]:
    plan = player.plan(read_turn(body, {"x-codex-turn-metadata": json.dumps({"turn_id": "t"})}))
    assert plan.status == 200, plan.message
    (item,) = plan.items
    return item


def test_a_running_command_is_polled_until_it_exits_then_the_script_goes_on() -> None:
    player = _player(poll_ms=2000)
    first = _answer(player, _body())
    assert first["name"] == "exec_command"
    assert json.loads(first["arguments"]) == {"cmd": "make build", "yield_time_ms": 250}
    poll = _answer(player, _body(("exec_command", RUNNING)))
    assert poll["name"] == "write_stdin"
    assert json.loads(poll["arguments"]) == {"session_id": 4242, "chars": "",
                                             "yield_time_ms": 2000}  # fmt: skip
    again = _answer(player, _body(("exec_command", RUNNING), ("write_stdin", RUNNING)))
    assert again["name"] == "write_stdin"
    after = _body(("exec_command", RUNNING), ("write_stdin", RUNNING), ("write_stdin", EXITED))
    following = _answer(player, after)
    assert json.loads(following["arguments"]) == {"cmd": "echo next"}
    done = _answer(player, _body(("exec_command", RUNNING), ("write_stdin", EXITED),
                                 ("exec_command", EXITED)))  # fmt: skip
    assert done["type"] == "message"


def test_a_model_that_gives_up_polling_goes_on_with_its_script() -> None:
    player = _player(polls=1)
    _answer(player, _body())
    assert _answer(player, _body(("exec_command", RUNNING)))["name"] == "write_stdin"
    moved_on = _answer(player, _body(("exec_command", RUNNING), ("write_stdin", RUNNING)))
    assert json.loads(moved_on["arguments"]) == {"cmd": "echo next"}


def test_plain_string_commands_are_never_given_a_yield() -> None:
    player = _player()
    assert "yield_time_ms" not in json.loads(_answer(player, _body(("exec_command", EXITED)))[
        "arguments"])  # fmt: skip
