"""Peak RSS of the orchestrator while the fake codex floods 1 GB through run_step.

Usage: .venv/bin/python bench/bench_flood_rss.py [BYTES]   (default 1 GB)
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import structlog

from orchestrator.codex.runner import run_step
from orchestrator.codex.step import StepRequest
from orchestrator.settings.model import CodexSettings
from orchestrator.testing.fake_codex import install_fake_codex


def main() -> None:
    # figures only: the INFO lines of each event and request would bury them
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        scenario = root / "scenario.json"
        rules = [{"name": "flood", "reply": {"fault": {"kind": "flood", "bytes": size}}}]
        scenario.write_text(json.dumps({"rules": rules}))
        settings = CodexSettings(
            binary=str(install_fake_codex(root / "bin")), step_timeout=900, stall_timeout=120
        )
        request = StepRequest(
            prompt="flood",
            cwd=repo,
            transcript=root / "transcript.jsonl",
            env={"FAKE_CODEX_SCENARIO": str(scenario)},
        )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        async def run() -> None:
            t0 = time.monotonic()
            result = await run_step(request, settings)
            took = time.monotonic() - t0
            print(f"outcome: {result.outcome.value}  commands: {len(result.commands)}")
            print(f"flooded: {size / 1e6:.0f} MB in {took:.1f} s ({size / 1e6 / took:.0f} MB/s)")
            print(f"transcript: {request.transcript.stat().st_size / 1e6:.0f} MB")

        anyio.run(run)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS before run: {before:.0f} MB; after: {peak:.0f} MB (target < 100 MB)")
        print(f"ratio peak RSS / target: {peak / 100:.2f}  (target < 1)")


if __name__ == "__main__":
    main()
