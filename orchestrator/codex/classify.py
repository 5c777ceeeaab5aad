"""Sorting a finished ``codex exec`` run into an :class:`Outcome`.

Success is ``turn.completed`` with exit 0; ``error`` lines alone are not
failures. Permanent errors (auth, config, usage, schema, unknown thread,
quota) are never retried; transient ones (rate limits, 5xx, network, a cut
stream, codex dying without a turn result) are. Permanent patterns are tried
first, so "Quota exceeded" (a 429) stays permanent. For a 400 codex quotes the
API's error body, whose ``invalid_request_error`` type says the request itself
is wrong: sending it again cannot help.
"""

from __future__ import annotations

import re

from orchestrator.codex.step import Outcome
from orchestrator.process.child import ProcessOutcome

PERMANENT = re.compile(
    r"\b40[13]\b|Unauthorized|Forbidden|Error loading config|Output schema file"
    r"|output schema file|Missing environment variable|no rollout found|Quota exceeded"
    r"|Not inside a trusted directory|No prompt provided|unexpected argument"
    r"|invalid value|invalid_request_error",
)
TRANSIENT = re.compile(
    r"\b429\b|\b5\d\d\b|Too Many Requests|Reconnecting|stream disconnected"
    r"|exceeded retry limit|high demand|Connection failed|error sending request"
    r"|connection (?:reset|refused|closed)|timed out|idle timeout",
    re.IGNORECASE,
)


def classify(
    proc: ProcessOutcome, *, completed: bool, failed_message: str | None, failure_text: str
) -> tuple[Outcome, str | None]:
    """The outcome of one run and, unless it is OK, a one-line reason."""
    if proc.ended == "timeout":
        return Outcome.TIMEOUT, proc.reason or f"no result within {proc.duration_s:.0f}s"
    if proc.ended == "stalled":
        return Outcome.STALLED, proc.reason or "codex printed nothing for the stall timeout"
    if proc.ended == "cancelled":
        return Outcome.CANCELLED, "cancelled"
    if proc.ended == "not_found":
        return Outcome.PERMANENT, f"codex executable not found: {proc.argv[0]}"
    if completed and proc.exit_code == 0:
        return Outcome.OK, None
    stderr = proc.stderr_tail.strip()
    text = "\n".join(t for t in (failure_text, stderr) if t)
    reason = failed_message or _last_line(stderr) or _ending(proc)
    if proc.exit_code == 2 and failed_message is None:
        return Outcome.PERMANENT, f"codex rejected its arguments (rc 2): {reason}"
    if PERMANENT.search(text):
        return Outcome.PERMANENT, reason
    if TRANSIENT.search(text):
        return Outcome.TRANSIENT, reason
    if failed_message is not None:
        return Outcome.PERMANENT, reason
    return Outcome.TRANSIENT, f"codex ended without a turn result ({_ending(proc)}): {reason}"


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _ending(proc: ProcessOutcome) -> str:
    if proc.signal is not None:
        return f"killed by signal {proc.signal}"
    return f"exit code {proc.exit_code}"
