"""Throughput of parse_event against a bare json.loads loop over the same lines.

Usage: .venv/bin/python bench/bench_event_parser.py [N_LINES]
"""

from __future__ import annotations

import json
import random
import sys
import time

from orchestrator.codex.events import parse_event


def _lines(n: int) -> list[str]:
    rnd = random.Random(7)
    out: list[str] = []
    i = 0
    while len(out) < n:
        out.append(json.dumps({"type": "turn.started"}))
        cmd = f"/bin/bash -lc 'pytest -q tests/test_{i}.py'"
        started = {"id": f"item_{i}", "type": "command_execution", "command": cmd,
                   "aggregated_output": "", "exit_code": None, "status": "in_progress"}  # fmt: skip
        out.append(json.dumps({"type": "item.started", "item": started}))
        output = "".join(
            f"line {k} of output {rnd.random():.6f}\n" for k in range(rnd.randint(1, 30))
        )
        done = {**started, "aggregated_output": output, "exit_code": rnd.choice([0, 1]),
                "status": "completed"}  # fmt: skip
        out.append(json.dumps({"type": "item.completed", "item": done}))
        change = {"id": f"item_{i + 1}", "type": "file_change", "status": "completed",
                  "changes": [{"path": f"/ws/src/mod_{i}.py", "kind": "update"}]}  # fmt: skip
        out.append(json.dumps({"type": "item.completed", "item": change}))
        reasoning = {"id": f"item_{i + 2}", "type": "reasoning", "text": "Thinking " * 20}
        out.append(json.dumps({"type": "item.completed", "item": reasoning}))
        message = {"id": f"item_{i + 3}", "type": "agent_message", "text": "Done. " * 30}
        out.append(json.dumps({"type": "item.completed", "item": message}))
        out.append(json.dumps({"type": "error", "message": "Reconnecting... 1/5 (429)"}))
        usage = {"input_tokens": 1000 + i, "cached_input_tokens": 10, "output_tokens": 50}
        out.append(json.dumps({"type": "turn.completed", "usage": usage}))
        i += 4
    return out[:n]


def _time(fn: object, lines: list[str]) -> float:
    call = fn  # for mypy-free bench code
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for line in lines:
            call(line)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    lines = _lines(n)
    size = sum(len(x) for x in lines)
    t_json = _time(json.loads, lines)
    t_parse = _time(parse_event, lines)
    print(f"lines: {n}  ({size / 1e6:.1f} MB)")
    print(f"json.loads:  {n / t_json:,.0f} lines/s")
    print(f"parse_event: {n / t_parse:,.0f} events/s")
    print(f"ratio parse_event/json.loads: {t_json / t_parse:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
