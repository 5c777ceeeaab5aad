"""What verification costs: one validation round over a 5,000-file repository.

Builds a repository of 5,000 files (250 of them tests), commits it, then changes
20 files and adds 5 as a milestone would. Times the same check (`true`, so only
the overhead shows) run in place and run by the verifying validator (candidate
tree, protected overlay, copy refresh, weakening analysis, environment hooks,
under `codex sandbox` when it works). The first round also creates the copy;
later rounds refresh it. Prints figures; asserts only correctness.
Target: a refreshed round costs at most 0.5 s more than in place.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import anyio
import structlog

from orchestrator.milestone.agent_step import PlanKeeper, StepContext
from orchestrator.milestone.validation import run_checks
from orchestrator.plan.model import Check, Milestone, Span
from orchestrator.settings.model import Settings, VerifySettings
from orchestrator.store.git import Repo
from orchestrator.store.state import MilestoneState, RunState
from orchestrator.verify.validator import Verifier

FILES = 5000
TESTS = 250
ROUNDS = 5
ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)


def build(repo: Path) -> None:
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    body = "x = 1\n" * 40
    for i in range(FILES - TESTS):
        path = repo / "src" / f"pkg{i // 50}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    for i in range(TESTS):
        path = repo / "tests" / f"t{i // 25}" / f"test_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def test_{i}():\n    assert {i} == {i}\n")
    (repo / ".gitignore").write_text(".venv/\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial")
    for i in range(20):
        (repo / "src" / "pkg0" / f"mod{i}.py").write_text(body + f"y = {i}\n")
    for i in range(5):
        (repo / "src" / f"new{i}.py").write_text(body)


def context(repo: Repo, settings: Settings, check: Check) -> StepContext:
    milestone = Milestone(
        id="1", number=1, title="bench", heading="Milestone 1: bench",
        span=Span(start=1, end=1), body="", checks=[check],
    )  # fmt: skip
    ms = MilestoneState(id="1", checkpoint=repo.head())
    state = RunState(run_id="bench", plan_path="plan.md", milestones=[ms])
    return StepContext(
        repo=repo, run_dir=repo.root / ".agent" / "runs" / "bench", plan_rel="plan.md",
        keeper=PlanKeeper(repo.root / "plan.md", ""), milestone=milestone, checks=[check],
        settings=settings, review_gate=True, state=state, ms=ms, save=lambda: None,
    )  # fmt: skip


def timed(fn: object) -> float:
    start = time.perf_counter()
    anyio.run(fn)  # type: ignore[arg-type]
    return time.perf_counter() - start


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        root = Path(tmp) / "repo"
        build(root)
        repo = Repo.open(root)
        check = Check(id="1.1", command="true", line=0, milestone="1")
        base = Settings()
        in_place = [
            timed(lambda: run_checks([check], cwd=root, settings=base.checks, log_dir=None))
            for _ in range(ROUNDS)
        ]
        print(f"repository: {FILES} files; check: `true`; {ROUNDS} rounds each (median)")
        print(f"in place:                     {statistics.median(in_place) * 1000:7.0f} ms")
        log_dir = Path(tmp) / "logs"
        for sandbox in ("off", "auto"):
            settings = base.model_copy(update={"verify": VerifySettings(sandbox=sandbox)})
            verifier = Verifier(repo=repo, run_id=f"bench-{sandbox}", settings=settings)
            ctx = context(repo, settings, check)
            try:
                first = timed(lambda v=verifier, c=ctx: v(c, log_dir))
                rounds = [timed(lambda v=verifier, c=ctx: v(c, log_dir)) for _ in range(ROUNDS)]
                records = anyio.run(verifier, ctx, log_dir)
                assert all(r.passed for r in records), records
                assert (verifier.copy.root / "src" / "new0.py").exists()
            finally:
                verifier.close()
            median = statistics.median(rounds)
            extra = median - statistics.median(in_place)
            label = f"verified, sandbox {sandbox}"
            sandboxed = "yes" if ctx.ms.verify and ctx.ms.verify.sandboxed else "no"
            print(
                f"{label + ':':29} {median * 1000:7.0f} ms  (first round {first * 1000:.0f} ms;"
                f" sandboxed: {sandboxed}); extra over in place: {extra * 1000:.0f} ms"
            )
            print(f"{'':29} extra / target (0.5 s): {extra / 0.5:.2f}  (target <= 1)")


if __name__ == "__main__":
    main()
