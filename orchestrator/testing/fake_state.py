"""The fake codex's state shared across invocations: fire counts, threads, usage."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def locked_state(scenario_path: Path) -> Iterator[dict[str, Any]]:
    """The state file's content, saved back atomically when the block ends."""
    path = scenario_path.with_name(scenario_path.name + ".state.json")
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state: dict[str, Any] = {"fired": {}, "threads": {}, "invocations": []}
        if path.exists() and path.stat().st_size:
            state.update(json.loads(path.read_text(encoding="utf-8")))
        yield state
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def add_usage(scenario_path: Path, thread_id: str, requests: int) -> dict[str, int]:
    """Add this turn's tokens to the thread's cumulative totals (like codex)."""
    with locked_state(scenario_path) as state:
        thread = state["threads"].setdefault(thread_id, {"usage": {}, "turns": 0})
        old = thread["usage"]
        usage = {
            "input_tokens": old.get("input_tokens", 0) + 100 * requests,
            "cached_input_tokens": old.get("cached_input_tokens", 0) + 20 * requests,
            "cache_write_input_tokens": 0,
            "output_tokens": old.get("output_tokens", 0) + 10 * requests,
            "reasoning_output_tokens": old.get("reasoning_output_tokens", 0) + 2 * requests,
        }
        thread["usage"] = usage
        thread["turns"] += 1
    return usage


def read_state(scenario_path: Path) -> dict[str, Any]:
    """The fake's persisted state (fire counts, threads, invocations) for assertions."""
    with locked_state(scenario_path) as state:
        return state
