"""`orchestrator demo`: the whole orchestrator on the real codex binary, offline.

It copies a small sample project (``project/``) into a new git repository,
starts the scripted model server with ``scenario.json``, points a throwaway
CODEX_HOME at it, and runs the three-milestone plan
``.agent/plans/textstats.md`` through the real supervisor:

- milestone 1 passes at once (implement, checks pass, review approves);
- milestone 2 fails validation, is reviewed, repaired, and passes;
- milestone 3 passes its checks, the review gate asks for a change, a repair
  makes it, and the gate approves.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from orchestrator.errors import EXIT_CODES, ExitCode, UsageError
from orchestrator.paths import PACKAGE_DIR
from orchestrator.settings.model import Settings
from orchestrator.ui import console

DEMO_DIR = PACKAGE_DIR / "demo"
PROJECT_DIR = DEMO_DIR / "project"
SCENARIO_FILE = DEMO_DIR / "scenario.json"
PLAN_REL = Path(".agent/plans/textstats.md")


def _prepare_repo(directory: Path) -> None:
    from orchestrator.store.git import Repo

    if directory.exists() and any(directory.iterdir()):
        raise UsageError(
            f"{directory} is not empty: the demo creates a new repository there. "
            "Name a new or empty directory with --keep DIR, or leave --keep out to use a "
            "temporary one."
        )
    shutil.copytree(
        PROJECT_DIR, directory, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    # Package data leaves out dot-files, so the sample keeps them under plain names.
    (directory / "agent").rename(directory / ".agent")
    (directory / ".gitignore").write_text("__pycache__/\n", encoding="utf-8")
    Repo.init_with_commit(directory, message="Sample project: textstats with its tests")


def _demo_settings(base: Settings, codex: str) -> Settings:
    """The user's settings with what the demo needs: the pinned codex, the scripted model."""
    return base.model_copy(
        update={
            "codex": base.codex.model_copy(
                update={
                    "binary": codex,
                    "model": "gpt-5.5",
                    "step_timeout": 120.0,
                    "stall_timeout": 60.0,
                    "retry_initial_wait": 0.2,
                }
            ),
        }
    )


def run_demo(*, directory: Path | None, settings: Settings) -> int:
    """Create the sample repository, serve the scripted model, run the plan, say what happened."""
    from orchestrator.run.session import start_run
    from orchestrator.testing.rehearsal import pinned_codex, scripted_codex
    from orchestrator.testing.server import load_scenario

    codex = pinned_codex(settings)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="orchestrator-demo-") as scratch:
        repo = (directory or Path(scratch) / "textstats").resolve()
        _prepare_repo(repo)
        console.out(f"demo repository: {repo}")
        scenario = load_scenario(SCENARIO_FILE)
        with scripted_codex(scenario, Path(scratch) / "codex-home") as server:
            console.out(f"scripted model: {server.url} (scenario {SCENARIO_FILE.name})")
            code = start_run(
                repo=repo,
                plan_path=repo / PLAN_REL,
                settings=_demo_settings(settings, codex),
                fresh=True,
            )
            requests = len(server.requests)
        _summarise(repo, code, requests, time.monotonic() - started, keep=directory is not None)
    return code


def _summarise(repo: Path, code: int, requests: int, elapsed: float, *, keep: bool) -> None:
    from orchestrator.store.git import Repo

    console.out("")
    console.out(
        f"demo finished in {elapsed:.1f}s with exit code {code}: "
        f"{EXIT_CODES.get(ExitCode(code), 'unknown')}"
    )
    console.out(f"the scripted model answered {requests} requests from the real codex binary")
    console.out("commits:")
    for line in Repo.open(repo).log_oneline(limit=6):
        console.out(f"  {line}")
    runs = sorted((repo / ".agent" / "runs").glob("*/report.md"))
    plan = repo / PLAN_REL
    progress = plan.read_text(encoding="utf-8").split("## Progress", 1)[-1].split("\n## ", 1)[0]
    console.out("plan Progress:" + progress.rstrip())
    if keep:
        console.out(f"look at: {plan}")
        if runs:
            console.out(f"         {runs[-1]}")
        console.out(f"         git -C {repo} log --format=full")
    else:
        console.out(
            "(the demo repository was temporary; use `orchestrator demo --keep DIR` to keep it)"
        )
        if runs:
            console.out("run report:")
            for line in runs[-1].read_text(encoding="utf-8").splitlines()[:40]:
                console.out(f"  {line}")
