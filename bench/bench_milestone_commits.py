"""How fast resume finds its ground truth: milestone commits and run state.

Builds a repository of 5,000 commits (99 of them milestone commits with
trailers) with `git fast-import`, then times `Repo.milestone_commits`,
`save_state`/`load_state` of a 100-milestone state and `list_runs` over 20 runs.
Prints figures; asserts only correctness. Target: each well under one second.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator.store.git import Repo
from orchestrator.store.state import (
    MilestoneState,
    RunState,
    StepRecord,
    list_runs,
    load_state,
    save_state,
    state_path,
)

COMMITS = 5000
MILESTONES = 99
PLAN = "docs/plan.md"
ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def _message(i: int, every: int) -> str:
    if i % every == 0 and i // every <= MILESTONES:
        m = i // every
        return (
            f"{PLAN}: milestone {m}\n\nSummary of milestone {m}.\n\n"
            f"ExecPlan: {PLAN}\nMilestone: {m}\nAttempts: 1\nCodex-Thread: thread-{m}\n"
        )
    return f"ordinary commit {i}\n\nSome body text.\n"


def make_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=ENV)
    every = COMMITS // (MILESTONES + 1)
    chunks: list[bytes] = []
    for i in range(1, COMMITS + 1):
        msg = _message(i, every).encode()
        content = f"line {i}\n".encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"committer Bench <bench@example.invalid> {1_700_000_000 + i} +0000\n".encode()
            + f"data {len(msg)}\n".encode()
            + msg
            + f"\nM 644 inline file{i % 50}.txt\ndata {len(content)}\n".encode()
            + content
            + b"\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], input=b"".join(chunks), cwd=root, check=True, env=ENV
    )
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True, env=ENV)


def timed(fn: Callable[[], object], runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def big_state(run_id: str) -> RunState:
    milestones = [
        MilestoneState(
            id=str(i),
            title=f"Milestone {i}",
            status="passed",
            attempts=2,
            commit="a" * 40,
            fingerprints=["f" * 64] * 3,
            steps=[
                StepRecord(kind=k, attempt=a, thread_id="t", tokens=1000, summary="s" * 200)
                for a, k in enumerate(["implement", "review", "repair", "review"])
            ],
        )
        for i in range(100)
    ]
    return RunState(run_id=run_id, plan_path=PLAN, milestones=milestones)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        make_repo(root)
        print(f"built {COMMITS} commits in {time.perf_counter() - t0:.2f} s")
        repo = Repo.open(root)
        assert repo.commit_count() == COMMITS
        found = repo.milestone_commits(PLAN)
        assert len(found) == MILESTONES, len(found)
        both = timed(lambda: Repo.open(root).milestone_commits(PLAN))
        only = timed(lambda: repo.milestone_commits(PLAN))
        print(f"Repo.open + milestone_commits: {both * 1000:.1f} ms ({len(found)} found)")
        print(f"milestone_commits only:        {only * 1000:.1f} ms")

        state = big_state("20260101-000000-0000")
        path = state_path(root, state.run_id)
        size_kib = len(state.model_dump_json(indent=2)) // 1024
        save_s = timed(lambda: save_state(path, state))
        print(f"save_state (100 milestones, {size_kib} KiB): {save_s * 1000:.1f} ms")
        print(f"load_state (100 milestones):   {timed(lambda: load_state(path)) * 1000:.1f} ms")
        for n in range(1, 20):
            run_id = f"20260101-000000-{n:04d}"
            save_state(state_path(root, run_id), big_state(run_id))
        runs_s = timed(lambda: list_runs(root))
        print(f"list_runs (20 runs):           {runs_s * 1000:.1f} ms")
        print("(each figure: median of 7 runs)")
        slowest = max(both, only, save_s, runs_s)
        print(f"slowest figure / target (1 s): {slowest:.3f}  (target: each well under 1)")


if __name__ == "__main__":
    main()
