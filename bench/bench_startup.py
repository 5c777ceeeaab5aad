"""Start-up time of `orchestrator --help` and `orchestrator status` (median of 20 runs).

Target: under 300 ms each. Prints one line per command and the modules each imports.
Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 20
TARGET_MS = 300.0


def _time(argv: list[str], cwd: Path) -> tuple[float, int]:
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return (time.perf_counter() - began) * 1000.0, proc.returncode


def _heavy_imports(argv: list[str], cwd: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].strip()))
    top = sorted((r for r in rows if not r[1].startswith(" ")), reverse=True)[:5]
    return [f"{name} {us / 1000:.0f}ms" for us, name in top]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        commands = {
            "--help": [sys.executable, "-m", "orchestrator", "--help"],
            "status": [sys.executable, "-m", "orchestrator", "status"],
        }
        baseline = statistics.median(
            _time([sys.executable, "-c", "pass"], repo)[0] for _ in range(RUNS)
        )
        print(f"python -c pass          median {baseline:6.1f} ms (interpreter floor)")
        failed = False
        for name, argv in commands.items():
            _time(argv, repo)  # warm the file cache
            samples = [_time(argv, repo) for _ in range(RUNS)]
            median = statistics.median(ms for ms, _ in samples)
            codes = sorted({code for _, code in samples})
            verdict = "ok" if median < TARGET_MS else "OVER TARGET"
            failed |= median >= TARGET_MS
            print(
                f"orchestrator {name:<10} median {median:6.1f} ms over {RUNS} runs "
                f"(exit {codes}) target {TARGET_MS:.0f} ms: {verdict}"
            )
            print(f"    slowest top-level imports: {', '.join(_heavy_imports(argv, repo))}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
