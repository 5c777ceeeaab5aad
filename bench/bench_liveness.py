"""Cost of the liveness check codex steps run about once a second.

Builds a sessions tree like a heavy user's (DAYS folders of FILES session files
each), then times: one check while a command runs and the session file grows
by a poll each time (the steady state), and the first look for a thread whose
file is not in the folders around its day (the full-tree search, done at most
every 10 s until found).

Usage: .venv/bin/python bench/bench_liveness.py [DAYS] [FILES]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import structlog

from orchestrator.codex.events import parse_event
from orchestrator.codex.liveness import Liveness
from orchestrator.codex.rollout import RolloutFile

THREAD = "01a22ec2-9545-7e10-a567-4d0d101d5bba"
POLL = {"type": "function_call", "name": "write_stdin", "arguments": '{"session_id": 7}'}


def _tree(home: Path, days: int, files: int) -> Path:
    first = date(2024, 1, 1)
    for d in range(days):
        day = first + timedelta(days=d)
        folder = home / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True)
        for f in range(files):
            (folder / f"rollout-{day}T00-00-{f:02d}-0000{d:04d}-{f:04d}.jsonl").write_text("{}\n")
    today = date.today()
    folder = home / "sessions" / f"{today:%Y}" / f"{today:%m}" / f"{today:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rollout-{today}T01-02-03-{THREAD}.jsonl"
    path.write_text('{"type":"session_meta"}\n')
    return path


def main() -> None:
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())  # no log lines
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 365
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        session = _tree(home, days, files)
        live = Liveness(stall_timeout=300, command_timeout=7200, codex_home=home)
        live.saw(parse_event(json.dumps({"type": "thread.started", "thread_id": THREAD})))
        cmd = {"id": "item_0", "type": "command_execution", "command": "make test"}
        live.saw(parse_event(json.dumps({"type": "item.started", "item": cmd})))
        rounds = 2000
        line = json.dumps({"type": "response_item", "payload": POLL}) + "\n"
        began = time.perf_counter()
        for _ in range(rounds):
            with session.open("a") as handle:
                handle.write(line)
            live.check(time.monotonic(), time.monotonic())
        steady = (time.perf_counter() - began) / rounds
        began = time.perf_counter()
        missing = RolloutFile(home, "ffffffff-ffff-7fff-bfff-ffffffffffff")
        missing.look()
        search = time.perf_counter() - began
    print(f"sessions tree: {days} day folders x {files} files = {days * files} files")
    print(f"check with a growing session file (append + check): {steady * 1e6:.0f} us")
    print(f"full-tree search for a thread not in its day's folders: {search * 1e3:.1f} ms")
    print(f"polls counted: {live.polls} of {rounds}")


if __name__ == "__main__":
    main()
