"""Start-up time of the early exits, side by side with `codex --version` in one run.

Early exits: `--help`; `status` with no run; `resume` with nothing to resume; `run` of
a file that is not a plan; `resume` and `run PLAN` while another process holds the
repository lock (exit 75); and `resume` in a repository with the config file
`orchestrator init` writes: the first time its settings are loaded, with pydantic, as
the full path loads them; later the early exit recalls that these inputs loaded
(orchestrator/settings/known.py). The commands are timed in turns (one of each, then again,
10 rounds), so a change in the machine's load hits them all alike; each line prints
the median and its ratio to `codex --version`. Target: ratio at most 1.0 (no slower
than `codex --version` on the same machine); also under 300 ms. A command over the
yardstick also prints its slowest top-level imports, and every command the heavy
packages it loaded (none; pydantic with a config the first time).
Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orchestrator.paths import PACKAGE_DIR, find_codex
from orchestrator.settings.known import KNOWN_FILE

RUNS = 10
TARGET_MS = 300.0
FIRST_TIME = {"resume (config, first)"}
HEAVY = ("pydantic", "structlog", "git", "markdown_it", "tenacity", "anyio", "rich")
PLAN = """# Plan

## Purpose / Big Picture

Make a file.

## Plan of Work

### Milestone 1: Make it

```sh validate
test -f done.txt
```
"""
_HOLDER = """
import sys, time
from pathlib import Path
from orchestrator.store.lock import RepoLock
RepoLock(Path(sys.argv[1]), plan="plan.md").acquire()
print("locked", flush=True)
time.sleep(600)
"""


def _time(argv: list[str], cwd: Path) -> tuple[float, int]:
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return (time.perf_counter() - began) * 1000.0, proc.returncode


def _imports(argv: list[str], cwd: Path) -> list[tuple[int, str]]:
    """(microseconds, module) of every import of the command, from ``-X importtime``."""
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
            rows.append((int(parts[1]), parts[2][1:].rstrip()))  # indented when nested
    return rows


def _repo(root: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "notes.md").write_text("# just notes\n", encoding="utf-8")
    (root / "plan.md").write_text(PLAN, encoding="utf-8")
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-q",
         "--allow-empty", "-m", "init"], cwd=root, check=True,
    )  # fmt: skip
    return root


def _measure(commands: dict[str, tuple[list[str], Path]]) -> dict[str, list[tuple[float, int]]]:
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for argv, cwd in commands.values():
        _time(argv, cwd)  # warm the file cache
    for _ in range(RUNS):
        for name, (argv, cwd) in commands.items():
            if name in FIRST_TIME:  # settings never loaded here: nothing remembered
                (cwd / ".git" / KNOWN_FILE).unlink(missing_ok=True)
            samples[name].append(_time(argv, cwd))
    return samples


def main() -> int:
    codex = find_codex()
    orch = [sys.executable, "-m", "orchestrator"]
    with tempfile.TemporaryDirectory() as tmp:
        free = _repo(Path(tmp) / "free")
        locked = _repo(Path(tmp) / "locked")
        configured = _repo(Path(tmp) / "configured")
        (configured / ".agent").mkdir()
        template = (PACKAGE_DIR / "templates" / "orchestrator.toml").read_text(encoding="utf-8")
        (configured / ".agent" / "orchestrator.toml").write_text(template, encoding="utf-8")
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(locked)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "locked\n", "the lock holder did not start"
            commands = {
                "python -c pass": ([sys.executable, "-c", "pass"], free),
                "--help": ([*orch, "--help"], free),
                "status": ([*orch, "status"], free),
                "resume": ([*orch, "resume"], free),
                "run notes.md": ([*orch, "run", "notes.md"], free),
                "resume (lock held)": ([*orch, "resume"], locked),
                "run plan.md (lock held)": ([*orch, "run", "plan.md"], locked),
                "resume (config, first)": ([*orch, "resume"], configured),
                "resume (with a config)": ([*orch, "resume"], configured),
            }
            if codex is not None:
                commands = {"codex --version": ([codex, "--version"], free), **commands}
            samples = _measure(commands)
            loaded = {}
            for name, (argv, cwd) in commands.items():
                if argv[:3] == orch:
                    if name in FIRST_TIME:
                        (cwd / ".git" / KNOWN_FILE).unlink(missing_ok=True)
                    loaded[name] = _imports(argv, cwd)
        finally:
            holder.kill()
            holder.wait()
    return _report(samples, loaded)


def _report(
    samples: dict[str, list[tuple[float, int]]], loaded: dict[str, list[tuple[int, str]]]
) -> int:
    medians = {name: statistics.median(ms for ms, _ in runs) for name, runs in samples.items()}
    yardstick = medians.get("codex --version")
    print(f"median of {RUNS} runs each, taken in turns; ratio = median / codex --version")
    failed = False
    for name, median in medians.items():
        codes = sorted({code for _, code in samples[name]})
        ratio = f"{median / yardstick:5.2f}x" if yardstick else "    -"
        line = f"  {name:<24} {median:6.1f} ms  {ratio}  exit {codes}"
        if name in loaded:
            names = {module.strip().split(".")[0] for _, module in loaded[name]}
            heavy = [m for m in HEAVY if m in names]
            over = median >= TARGET_MS or (yardstick is not None and median > yardstick)
            failed |= median >= TARGET_MS
            line += f"  heavy imports: {', '.join(heavy) or 'none'}"
            line += "  OVER" if over else "  ok"
            if over:
                top = sorted((r for r in loaded[name] if not r[1].startswith(" ")), reverse=True)
                line += "\n      slowest imports: " + ", ".join(
                    f"{module} {us / 1000:.0f} ms" for us, module in top[:5]
                )
        print(line)
    print(f"target: ratio <= 1.00 and under {TARGET_MS:.0f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
