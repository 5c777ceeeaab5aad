"""The scenario format: how a scripted model behaves.

One format drives both the scripted Responses server (played through the real
codex binary) and the fake ``codex`` executable (which imitates codex itself).

A *turn* is one ``codex exec`` invocation's conversation turn: it starts with a
user prompt and goes on through tool rounds until the model answers without a
tool call. At the start of each turn the first rule whose ``match`` fits (and
whose ``times`` is not used up) is chosen; its ``reply`` plays the whole turn:

1. each entry of ``commands`` is one tool round (``exec_command``), in order; a
   command still running when codex answers ("Process running with session ID
   N") is polled with ``write_stdin`` until it exits, as a real model does (see
   :class:`Command`);
2. ``patch`` (if set) is one ``apply_patch`` round;
3. then the final answer: ``answer`` serialised as JSON if set, else ``message``.

A ``fault`` replaces the reply (or, with ``fault.after_commands``, comes after the
tool rounds). Rules are tried in order, so put specific rules before general
ones. A request that matches no rule is answered with an error naming the
request, so a broken test explains itself.

``times`` counts turns: a rule is counted on a turn's first request. A fault
that makes codex repeat that request (429, 5xx, a cut stream) is matched
again on the repeat, so a ``times: 1`` fault rule lets the retry fall
through to the next rule. Later tool rounds reuse the rule the turn began
with.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.errors import ConfigError

# The marker line every orchestrator prompt starts with (docs/scripted-model.md).
_STEP_MARKER = re.compile(r"step=(implement|repair|review)\b")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Model):
    """Which turns a rule applies to. Every given condition must hold."""

    prompt_contains: str | None = Field(None, description="substring of the turn's user prompt")
    prompt_regex: str | None = Field(None, description="regex searched in the turn's user prompt")
    schema_property: str | None = Field(
        None, description="the request's output schema has this top-level property"
    )
    has_schema: bool | None = Field(None, description="an output schema is (not) present")
    resumed: bool | None = Field(None, description="the turn continues an earlier thread")


class Fault(_Model):
    """A misbehaviour in place of (or after) a reply."""

    kind: Literal[
        "http",  # answer with HTTP `status` (429, 500, 401, ...)
        "cut",  # send part of the stream, then close it before response.completed
        "hang",  # accept the request and send nothing more
        "delay",  # wait `seconds`, then play the reply normally
        "usage_limit",  # 429 usage_limit_reached resetting in `resets_in_seconds` (codex 4.4)
        # fake-codex only (process-level misbehaviour of codex itself):
        "crash",  # exit `exit_code` (default 1) with no turn result
        "ignore_sigterm",  # ignore SIGTERM/SIGINT and hang
        "flood",  # print `bytes` of command output, then play the reply
        "malformed",  # print a malformed JSONL line and an over-long line, then play the reply
    ]
    status: int = Field(500, description="HTTP status for kind=http")
    retry_after: float | None = Field(
        None, description="Retry-After header, seconds (rounded up: codex ignores fractions)"
    )
    message: str = Field("scripted failure", description="error message in the body")
    seconds: float = Field(0.0, description="delay for kind=delay")
    resets_in_seconds: int | None = Field(
        3600,
        description="kind=usage_limit: seconds until the limit resets; null gives the plain "
        "'The usage limit has been reached' body without reset fields",
    )
    bytes: int = Field(0, description="output size for kind=flood")
    exit_code: int = Field(1, description="exit code for kind=crash")
    after_commands: bool = Field(False, description="run the reply's commands first")


class Command(_Model):
    """One ``exec_command`` call, with how the model waits for it.

    codex runs the command and answers after ``yield_ms`` (its ``yield_time_ms``) at
    the latest; if the command still runs, the answer says "Process running with
    session ID N" and the model polls with ``write_stdin`` (empty ``chars``) every
    round until the output says the process exited, up to ``polls`` polls.
    """

    cmd: str = Field(description="the shell command")
    yield_ms: int | None = Field(
        None, ge=250, le=30000, description="exec_command yield_time_ms (codex default 10000)"
    )
    poll_ms: int = Field(1000, ge=250, le=30000, description="write_stdin yield_time_ms per poll")
    polls: int | None = Field(
        None, ge=0, description="give up polling after this many polls and go on; None: no limit"
    )


class Reply(_Model):
    """What the model does in one turn."""

    commands: list[str | Command] = Field(
        default_factory=list, description="shell commands, one per round (plus its polls)"
    )
    patch: str | None = Field(None, description="apply_patch text ('*** Begin Patch' ...)")
    message: str = Field("done", description="final assistant message")
    answer: dict[str, Any] | None = Field(None, description="final structured answer (JSON)")
    fault: Fault | None = None


class Rule(_Model):
    name: str = Field(description="shown in logs and in the recorded requests")
    match: Match = Field(default_factory=Match)
    times: int | None = Field(None, ge=1, description="fire at most this many times")
    reply: Reply = Field(default_factory=Reply)

    def step_kind(self) -> str | None:
        """The orchestrator step this rule answers, from the prompt marker it matches."""
        found = _STEP_MARKER.search(f"{self.match.prompt_contains} {self.match.prompt_regex}")
        return found.group(1) if found else None

    @model_validator(mode="after")
    def _answer_fits_its_step(self) -> Rule:
        """A rule that answers an orchestrator step must give an answer its schema accepts."""
        kind = self.step_kind()
        if kind is not None and self.reply.answer is not None:
            problem = answer_problem(kind, self.reply.answer)
            if problem is not None:
                raise ValueError(f"rule {self.name!r}: {problem}")
        return self


class TokenUsage(_Model):
    """Token counts the scripted server reports for every response it completes."""

    input_tokens: int = Field(100, ge=0, description="input tokens per response")
    cached_input_tokens: int = Field(0, ge=0, description="of which cached")
    output_tokens: int = Field(10, ge=0, description="output tokens per response")
    reasoning_output_tokens: int = Field(0, ge=0, description="of which reasoning")


class Scenario(_Model):
    """A scripted model's whole behaviour."""

    model: str = Field("gpt-5.5", description="model slug the codex config names")
    rules: list[Rule]
    usage: TokenUsage = Field(
        default_factory=TokenUsage, description="usage reported by each completed response"
    )

    @classmethod
    def load(cls, path: Path) -> Scenario:
        """Load a scenario from a JSON file; a ConfigError names the file and each problem."""
        fix = "pass a scenario file: UTF-8 JSON in the format of docs/scripted-model.md"
        if path.is_dir():
            raise ConfigError(f"scenario {path} is a directory; {fix}")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read scenario {path}: {exc.strerror or exc}; {fix}"
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"scenario {path} is not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at "
                f"offset {exc.start}); {fix}"
            ) from None
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise ConfigError(
                f"scenario {path} is not valid: {describe_errors(exc)}. The format is in "
                "docs/scripted-model.md."
            ) from None

    def answer_problems(self) -> list[str]:
        """Answers an orchestrator run would reject: each rule's answer checked against the
        step schema its marker names, or (without a marker) the review schema when it has
        a ``verdict`` and the step schema otherwise."""
        problems = []
        for i, rule in enumerate(self.rules):
            if rule.reply.answer is None or rule.step_kind() is not None:
                continue  # no answer, or already checked when the scenario loaded
            kind = "review" if "verdict" in rule.reply.answer else "implement"
            problem = answer_problem(kind, rule.reply.answer)
            if problem is not None:
                problems.append(f"rules[{i}]: rule {rule.name!r}: {problem}")
        return problems


def answer_problem(kind: str, answer: dict[str, Any]) -> str | None:
    """Why ``answer`` is not a valid answer of a ``kind`` step, or None if it is."""
    from orchestrator.milestone.answers import ReviewAnswer, StepAnswer, parse_answer

    text = json.dumps(answer)
    if kind == "review":
        problem = parse_answer(ReviewAnswer, text)[1]
    else:
        problem = parse_answer(StepAnswer, text)[1]
    if problem is None:
        return None
    step = "a review" if kind == "review" else f"an {kind}"
    return f"the answer of {step} step {problem.removeprefix('the final answer ')}"


def describe_errors(exc: ValidationError) -> str:
    """Pydantic errors as one readable sentence: where, then what (no URLs, no input dumps)."""
    parts = []
    for error in exc.errors(include_url=False)[:6]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where.lstrip('.') or 'the file'}: {message}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
