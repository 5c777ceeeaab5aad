"""Plays a scenario: chooses the rule for a turn and what each request gets.

Rules are chosen on a turn's first request (round 0) and counted there, so
``times`` counts turns. A fault that makes codex repeat the first request
(429, 500, a cut stream) is chosen again on the repeat, so a ``times: 1``
fault rule lets the retry fall through to the next rule. Later rounds of the
turn reuse the rule chosen at its start.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.testing import sse
from orchestrator.testing.scenario import Command, Fault, Match, Reply, Rule, Scenario
from orchestrator.testing.turns import TurnView

Ending = Literal["complete", "cut", "hang"]
_FAKE_CODEX_ONLY = frozenset({"crash", "ignore_sigterm"})


@dataclass(frozen=True)
class Plan:
    """What the server sends for one request."""

    rule: str | None
    status: int = 200
    message: str = ""
    retry_after: float | None = None
    body: dict[str, object] | None = None  # the error body, when not the standard one
    items: list[sse.Item] = field(default_factory=list)
    ending: Ending = "complete"
    delay: float = 0.0


def usage_limit_body(resets_in_seconds: int | None) -> dict[str, object]:
    """A ChatGPT-plan usage-limit error body (codex-exec-facts 4.4)."""
    if resets_in_seconds is None:
        return {
            "error": {"type": "usage_limit_reached", "message": "The usage limit has been reached"}
        }
    return {
        "error": {
            "type": "usage_limit_reached",
            "message": "The usage limit has been reached",
            "plan_type": "plus",
            "resets_at": int(time.time()) + resets_in_seconds,
            "resets_in_seconds": resets_in_seconds,
        }
    }


def matches(match: Match, view: TurnView) -> bool:
    """Whether every condition given in ``match`` holds for the turn."""
    if match.prompt_contains is not None and match.prompt_contains not in view.prompt:
        return False
    if match.prompt_regex is not None and not re.search(match.prompt_regex, view.prompt):
        return False
    if match.has_schema is not None and match.has_schema != (view.schema is not None):
        return False
    if match.schema_property is not None and match.schema_property not in view.schema_properties:
        return False
    return match.resumed is None or match.resumed == view.resumed


class Player:
    """Thread-safe rule bookkeeping for one server."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._fired = [0] * len(scenario.rules)
        self._assigned: dict[str, int] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def fired(self) -> dict[str, int]:
        """How many turns each rule has started, by rule name."""
        with self._lock:
            return {rule.name: n for rule, n in zip(self.scenario.rules, self._fired, strict=True)}

    def next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_{next(self._ids)}"

    def choose(self, view: TurnView) -> Rule | None:
        """The rule answering this request (counted on round 0 only)."""
        rules = self.scenario.rules
        with self._lock:
            if view.round > 0 and view.key in self._assigned:
                return rules[self._assigned[view.key]]
            for index, rule in enumerate(rules):
                if view.round == 0 and rule.times is not None and self._fired[index] >= rule.times:
                    continue
                if matches(rule.match, view):
                    if view.round == 0:
                        self._fired[index] += 1
                        self._assigned[view.key] = index
                    return rule
        return None

    def plan(self, view: TurnView) -> Plan:
        """Choose the rule and build the answer for this request."""
        rule = self.choose(view)
        if rule is None:
            return Plan(
                rule=None, status=400, message=f"no scenario rule matches {view.describe()}"
            )
        return self._play(rule.name, rule.reply, view)

    def _play(self, name: str, reply: Reply, view: TurnView) -> Plan:
        fault = reply.fault
        if fault is not None and not fault.after_commands:
            return self._fault(name, fault, reply, view)
        poll = self._poll(reply, view)
        if poll is not None:
            return Plan(rule=name, items=[poll])
        position = view.round - view.polls
        if position < _tool_rounds(reply):
            return Plan(rule=name, items=[self._step(reply, position)])
        if fault is not None:
            return self._fault(name, fault, reply, view)
        return Plan(rule=name, items=[self._step(reply, position)])

    def _poll(self, reply: Reply, view: TurnView) -> sse.Item | None:
        """A ``write_stdin`` poll if the last command still runs and the model still waits."""
        position = view.round - view.polls
        if view.running_session is None or not 0 < position <= len(reply.commands):
            return None
        command = _command(reply.commands[position - 1])
        if command.polls is not None and view.trailing_polls >= command.polls:
            return None
        return sse.write_stdin_item(
            self.next_id("fc"), self.next_id("call"), view.running_session, command.poll_ms
        )

    def _step(self, reply: Reply, round_: int) -> sse.Item:
        """The item of one round: a command, the patch, or the final answer."""
        if round_ < len(reply.commands):
            command = _command(reply.commands[round_])
            return sse.exec_command_item(
                self.next_id("fc"), self.next_id("call"), command.cmd, command.yield_ms
            )
        if reply.patch is not None and round_ == len(reply.commands):
            return sse.apply_patch_item(self.next_id("ctc"), self.next_id("call"), reply.patch)
        text = reply.message if reply.answer is None else json.dumps(reply.answer)
        return sse.message_item(self.next_id("msg"), text)

    def _fault(self, name: str, fault: Fault, reply: Reply, view: TurnView) -> Plan:
        if fault.kind == "usage_limit":
            return Plan(rule=name, status=429, body=usage_limit_body(fault.resets_in_seconds))
        if fault.kind == "http":
            return Plan(
                rule=name, status=fault.status, message=fault.message, retry_after=fault.retry_after
            )
        if fault.kind == "cut":
            partial = sse.message_item(self.next_id("msg"), fault.message)
            return Plan(rule=name, items=[partial], ending="cut")
        if fault.kind == "hang":
            return Plan(rule=name, ending="hang")
        if fault.kind in _FAKE_CODEX_ONLY:
            return Plan(
                rule=name,
                status=400,
                message=f"rule {name!r}: fault {fault.kind!r} is played by the fake codex only",
            )
        # delay, flood, malformed: the reply plays normally (delay waits first).
        delay = fault.seconds if fault.kind == "delay" else 0.0
        return Plan(rule=name, items=[self._step(reply, view.round)], delay=delay)


def _command(entry: str | Command) -> Command:
    return Command(cmd=entry) if isinstance(entry, str) else entry


def _tool_rounds(reply: Reply) -> int:
    return len(reply.commands) + (1 if reply.patch is not None else 0)
