"""Overhead of `orchestrator run` over a bash loop starting exactly the same processes.

A 20-milestone plan whose checks are `true`, played by the fake codex answering at
once (implement + review gate per milestone). A first, untimed run records every
child process the orchestrator starts (shims for git, bash and codex first on PATH,
see child_replay.py): git (the diffs, the verification copy, the ref guard, the
commit transaction), the checks, codex. The bash loop replays those children, same
programs, same arguments, same order, in a fresh copy of the same repository. Then
both are timed in turn; the ratio is our own cost (interpreter, imports,
bookkeeping, file writes, waits), the target is <= 1.10.
Run: .venv/bin/python bench/bench_run_overhead.py
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child_replay import Child, count_kinds, install_shims, read_children, replay_script

from orchestrator.testing.fake_codex import install_fake_codex

MILESTONES = 20
PLAN = ".agent/plans/bench.md"
ENV_ID = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",  # the same first commit on both sides
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _plan() -> str:
    lines = ["# Bench plan", "", "## Purpose / Big Picture", "", "Measure overhead.", ""]
    lines += ["## Progress", "", "## Surprises & Discoveries", "", "## Decision Log", ""]
    lines += ["## Outcomes & Retrospective", "", "## Context and Orientation", "", "None.", ""]
    lines += ["## Plan of Work", ""]
    for i in range(1, MILESTONES + 1):
        lines += [f"### Milestone {i}: step {i}", "", f"Write f{i}.txt.", ""]
        lines += ["```sh validate", "true", "```", ""]
    lines += ["## Concrete Steps", "", "None.", "", "## Validation and Acceptance", "", "Ok.", ""]
    return "\n".join(lines)


def _scenario(path: Path) -> Path:
    answer: dict[str, object] = {
        "status": "done",
        "summary": "ok",
        "discoveries": [],
        "decisions": [],
        "question": None,
    }
    review: dict[str, object] = {
        "verdict": "approve",
        "summary": "ok",
        "findings": [],
        "question": None,
    }
    rules = [
        {"name": "review", "match": {"schema_property": "verdict"}, "reply": {"answer": review}},
        {"name": "implement", "match": {"schema_property": "status"},
         "reply": {"commands": ["date +%N > \"f$RANDOM.txt\""], "answer": answer}},
    ]  # fmt: skip
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return path


def _repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / PLAN).parent.mkdir(parents=True)
    (repo / PLAN).write_text(_plan(), encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial")
    return repo


def _env(root: Path, env: dict[str, str]) -> dict[str, str]:
    """Everything a run writes lives under ``root`` (temporary files, the verification
    copy under the cache directory), so the replay can move it to its own root."""
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    scenario = _scenario(root / "scenario.json")
    return env | {"TMPDIR": str(root / "tmp"), "XDG_CACHE_HOME": str(root / "cache"),
                  "FAKE_CODEX_SCENARIO": str(scenario)}  # fmt: skip


def _orchestrator(root: Path, codex: Path, env: dict[str, str]) -> tuple[float, int]:
    """Time one run; its wall time and the orchestrator's pid."""
    repo = _repo(root)
    argv = [sys.executable, "-m", "orchestrator", "-q", "-C", str(repo), "run", PLAN]
    argv += ["--codex-bin", str(codex)]
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=_env(root, env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"orchestrator run failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, proc.pid


def _bash(root: Path, script: str, files: dict[Path, bytes], env: dict[str, str],
          record: Path, path: str) -> tuple[float, int]:  # fmt: skip
    """Time the replay in a fresh repository under ``root``; wall time and bash's pid."""
    repo = _repo(root)
    shutil.copytree(record / "repo" / ".agent" / "runs", repo / ".agent" / "runs")
    with (repo / ".git" / "info" / "exclude").open("a", encoding="utf-8") as f:
        f.write("/.agent/runs/\n")
    (root / "replay").mkdir()
    for file, data in files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
    script_file = root / "loop.sh"
    script_file.write_text(script, encoding="utf-8")
    env = _env(root, env) | {"PATH": path}
    start = time.perf_counter()
    bash = shutil.which("bash") or "bash"  # not a shim: its children are the ones counted
    proc = subprocess.Popen(
        [bash, str(script_file)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bash loop failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, proc.pid


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | ENV_ID
    # a user's install has its bytecode cached: let the untimed first run write it
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    orch_times: list[float] = []
    bash_times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "gitconfig").write_text("", encoding="utf-8")
        env |= {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "CODEX_API_KEY": "bench-fake"}  # fmt: skip
        # (the fake codex needs no login, but the preflight asks for one)
        fake = install_fake_codex(Path(tmp) / "bin")
        programs = {"git": "git", "bash": "bash", "codex": str(fake)}
        # 1. record the orchestrator's children (untimed: the shims cost a process each)
        log = Path(tmp) / "children.log"
        shims = install_shims(Path(tmp) / "shims", log, fake)
        shimmed = {"PATH": f"{shims}{os.pathsep}{env['PATH']}"}
        record = Path(tmp) / "record"
        _, pid = _orchestrator(record, shims / "codex", env | shimmed)
        children = read_children(log, pid)
        script, files = replay_script(children, record, Path(tmp) / "ROOT", programs)
        # 2. the replay makes the same children (recorded the same way, also untimed)
        check = Path(tmp) / "check"
        log = Path(tmp) / "replayed.log"
        install_shims(shims, log, fake)
        shimmed_codex = script.replace(shlex.quote(str(fake)), shlex.quote(str(shims / "codex")))
        moved = shimmed_codex.replace(str(Path(tmp) / "ROOT"), str(check))
        _bash(check, moved, _moved(files, Path(tmp) / "ROOT", check), env | shimmed,
                            record, shimmed["PATH"])  # fmt: skip
        replayed = read_children(log, parent_name="bash")
        # 3. timed, in turn
        for i in range(rounds):
            t, _ = _orchestrator(Path(tmp) / f"o{i}", fake, env)
            orch_times.append(t)
            root = Path(tmp) / f"b{i}"
            mine = script.replace(str(Path(tmp) / "ROOT"), str(root))
            needs = _moved(files, Path(tmp) / "ROOT", root)
            t, _ = _bash(root, mine, needs, env, record, env["PATH"])
            bash_times.append(t)
    _report(children, replayed, orch_times, bash_times)


def _moved(files: dict[Path, bytes], old: Path, new: Path) -> dict[Path, bytes]:
    return {Path(str(p).replace(str(old), str(new))): data for p, data in files.items()}


def _report(
    children: list[Child], replayed: list[Child], orch_times: list[float], bash_times: list[float]
) -> None:
    mine, theirs = count_kinds(children), count_kinds(replayed)
    print(f"milestones: {MILESTONES}; rounds: {len(orch_times)}")
    print(f"child processes: orchestrator {len(children)}, bash loop {len(replayed)}")
    print(f"  {'kind':<24} {'orchestrator':>12} {'bash loop':>10} {'per milestone':>14}")
    for kind in sorted(set(mine) | set(theirs), key=lambda k: (-mine[k], k)):
        print(f"  {kind:<24} {mine[kind]:>12} {theirs[kind]:>10} {mine[kind] / MILESTONES:>14.2f}")
    o, b = statistics.median(orch_times), statistics.median(bash_times)
    print(f"orchestrator run: median {o:.2f} s  (all: {', '.join(f'{t:.2f}' for t in orch_times)})")
    print(f"bash loop:        median {b:.2f} s  (all: {', '.join(f'{t:.2f}' for t in bash_times)})")
    print(f"ratio: {o / b:.3f}  (target <= 1.10)")
    # on a busy machine the fastest round is the least disturbed one of each side
    print(f"ratio of the fastest rounds: {min(orch_times) / min(bash_times):.3f}")


if __name__ == "__main__":
    main()
