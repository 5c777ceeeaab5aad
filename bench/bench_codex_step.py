"""One real codex step (one message, no tools) against the scripted model server.

Prints the median and range of the wall time of `codex exec --json` over N runs
(after one warm-up run that initialises the fresh CODEX_HOME), and the same for
a step with one shell command round.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog

from orchestrator.paths import LOCAL_CODEX
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer

SCENARIO = Scenario.model_validate(
    {
        "rules": [
            {
                "name": "tool",
                "match": {"prompt_contains": "tool"},
                "reply": {"commands": ["true"], "message": "ran"},
            },
            {"name": "message", "reply": {"message": "hello"}},
        ]
    }
)


def one_step(codex: Path, workspace: Path, env: dict[str, str], prompt: str) -> float:
    argv = [str(codex), "exec", "--json", "--skip-git-repo-check", "-C", str(workspace)]
    argv += ["-s", "workspace-write", "--", prompt]
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=60)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or b'"turn.completed"' not in proc.stdout:
        sys.exit(f"codex step failed (rc {proc.returncode}):\n{proc.stdout.decode()[-2000:]}")
    return elapsed


def main() -> int:
    # figures only: the INFO lines of each event and request would bury them
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--codex", type=Path, default=LOCAL_CODEX)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ScriptedModelServer(SCENARIO) as server:
        workspace = Path(tmp) / "ws"
        workspace.mkdir()
        env = {"PATH": os.environ["PATH"], "HOME": tmp}
        env.update(server.codex_env(Path(tmp) / "codex-home"))
        one_step(args.codex, workspace, env, "warm up")
        for label, prompt in (("message step", "say hello"), ("one-command step", "tool please")):
            times = [one_step(args.codex, workspace, env, prompt) for _ in range(args.runs)]
            print(
                f"{label}: median {statistics.median(times):.3f} s, "
                f"range {min(times):.3f}-{max(times):.3f} s over {args.runs} runs"
            )
        print(f"requests served: {len(server.requests)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
