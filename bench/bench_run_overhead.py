"""Overhead of `orchestrator run` over a plain bash loop doing the same process spawns.

A 20-milestone plan whose checks are `true`, played by the fake codex answering at
once (implement + review gate per milestone). The bash loop replays exactly the
codex invocations the orchestrator made (same argv, recorded by the fake), runs the
same check commands and the same git processes (the work-tree diff for the review
prompt, one commit per milestone). Prints both times and the ratio (target <= 1.10).
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

from orchestrator.testing.fake_codex import install_fake_codex, read_state

MILESTONES = 20
PLAN = ".agent/plans/bench.md"
ENV_ID = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
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


def _orchestrator(
    root: Path, fake: Path, env: dict[str, str]
) -> tuple[float, list[list[str]], Path]:
    repo = _repo(root)
    scenario = _scenario(root / "scenario.json")
    env = {**env, "FAKE_CODEX_SCENARIO": str(scenario)}
    argv = [sys.executable, "-m", "orchestrator", "-q", "-C", str(repo), "run", PLAN]
    argv += ["--codex-bin", str(fake)]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"orchestrator run failed ({done.returncode}): {done.stderr[-2000:]}")
    calls = [c["argv"] for c in read_state(scenario)["invocations"]]
    return elapsed, calls, repo


def _bash(
    root: Path, fake: Path, env: dict[str, str], calls: list[list[str]], orch_repo: Path
) -> float:
    """Replay the recorded codex argv in another repo (run dir copied, so -o paths exist)."""
    repo = _repo(root)
    shutil.copytree(orch_repo / ".agent" / "runs", repo / ".agent" / "runs")
    with (repo / ".git" / "info" / "exclude").open("a", encoding="utf-8") as f:
        f.write("/.agent/runs/\n")
    calls = [[a.replace(str(orch_repo), str(repo)) for a in argv] for argv in calls]
    scenario = _scenario(root / "scenario.json")
    env = {**env, "FAKE_CODEX_SCENARIO": str(scenario)}
    script = ["set -e", f"cd {shlex.quote(str(repo))}"]
    per_milestone = len(calls) // MILESTONES
    for m in range(MILESTONES):
        script.extend(
            " ".join(shlex.quote(a) for a in [str(fake), *argv]) + " </dev/null >/dev/null"
            for argv in calls[m * per_milestone : (m + 1) * per_milestone]
        )
        script.append("bash -o pipefail -c $'exec 2>&1\\ntrue' >/dev/null")
        # the work-tree diff the review prompt carries: a throwaway index, add, diff
        script.append(
            "GIT_INDEX_FILE=.git/diff-index git add -A"
            " && GIT_INDEX_FILE=.git/diff-index git diff --cached HEAD >/dev/null"
        )
        script.append(f"git add -A && git commit -q -m 'bench: milestone {m + 1}'")
    script.append("git commit -q --allow-empty -m 'bench: outcomes'")
    script_file = root / "loop.sh"
    script_file.write_text("\n".join(script) + "\n", encoding="utf-8")
    start = time.perf_counter()
    done = subprocess.run(["bash", str(script_file)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bash loop failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | ENV_ID
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
        for i in range(rounds):
            t, calls, orch_repo = _orchestrator(Path(tmp) / f"o{i}", fake, env)
            orch_times.append(t)
            bash_times.append(_bash(Path(tmp) / f"b{i}", fake, env, calls, orch_repo))
    o, b = statistics.median(orch_times), statistics.median(bash_times)
    print(f"milestones: {MILESTONES}; codex invocations per run: {len(calls)}; rounds: {rounds}")
    print(f"orchestrator run: median {o:.2f} s  (all: {', '.join(f'{t:.2f}' for t in orch_times)})")
    print(f"bash loop:        median {b:.2f} s  (all: {', '.join(f'{t:.2f}' for t in bash_times)})")
    print(f"ratio: {o / b:.3f}  (target <= 1.10)")


if __name__ == "__main__":
    main()
