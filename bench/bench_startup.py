"""Start-up time of the early exits, side by side with `codex --version` (median of 10 runs).

Early exits: `--help`, `status`, `resume` with nothing to resume, and `run` of a file
that is not a plan. Target: each no slower than `codex --version` on the same machine
(the ratio is printed); also under 300 ms. Prints one line per command and the slowest
top-level imports. Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestrator.paths import find_codex

RUNS = 10
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
        subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-q",
             "--allow-empty", "-m", "init"], cwd=repo, check=True,
        )  # fmt: skip
        (repo / "notes.md").write_text("# just notes\n", encoding="utf-8")
        orch = [sys.executable, "-m", "orchestrator"]
        commands = {
            "--help": [*orch, "--help"],
            "status": [*orch, "status"],
            "resume": [*orch, "resume"],  # nothing to resume
            "run notes.md": [*orch, "run", "notes.md"],  # not a runnable plan
        }
        codex = find_codex()
        codex_ms = None
        if codex is not None:
            _time([codex, "--version"], repo)
            codex_ms = statistics.median(_time([codex, "--version"], repo)[0] for _ in range(RUNS))
            print(f"codex --version         median {codex_ms:6.1f} ms (the yardstick)")
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
            ratio = f", {median / codex_ms:.2f}x codex --version" if codex_ms else ""
            print(
                f"orchestrator {name:<12} median {median:6.1f} ms over {RUNS} runs "
                f"(exit {codes}){ratio}; target {TARGET_MS:.0f} ms: {verdict}"
            )
            print(f"    slowest top-level imports: {', '.join(_heavy_imports(argv, repo))}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
