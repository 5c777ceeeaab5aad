"""``orchestrator rehearse PLAN SCENARIO``: a run against the scripted model, in a scratch clone.

One command instead of two shells: it checks the scenario (its answers must be
ones a run accepts), clones the repository (HEAD, plus the plan and the config
as they are in the working tree, committed in the clone), serves the scenario,
prepares a throwaway CODEX_HOME, runs the plan there with the user's settings
pointed at the scripted model, and prints the run report. The user's working
tree, branches and runs are never touched; ``--keep DIR`` keeps the clone.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from orchestrator.errors import ConfigError, PlanError, UsageError
from orchestrator.paths import RUNS_DIR
from orchestrator.settings.model import Settings
from orchestrator.ui import console

CONFIG_REL = Path(".agent/orchestrator.toml")


def _plan_in(root: Path, plan_path: Path) -> Path:
    """PLAN relative to the repository root (found under it first, then in the cwd)."""
    candidates = [plan_path] if plan_path.is_absolute() else [root / plan_path, plan_path]
    found = next((p.resolve() for p in candidates if p.is_file()), None)
    if found is None:
        raise PlanError(f"the plan {plan_path} does not exist (looked in {root} and here)")
    try:
        return found.relative_to(root)
    except ValueError:
        raise PlanError(
            f"the plan {plan_path} is outside the repository {root}; rehearse a plan that "
            "lives in the repository (e.g. under .agent/plans/)"
        ) from None


def _check_runnable(shown: Path, plan: Path, settings: Settings) -> None:
    """Refuse a plan a run would refuse, naming it as the user typed it (not in the clone)."""
    from orchestrator.plan.lint import lint_plan

    report = lint_plan(plan, settings.checks.commands)
    if not report.runnable:
        problems = "; ".join(
            f"{shown}:{p.line}: {p.message}" for p in report.problems if p.severity == "error"
        )
        raise PlanError(
            f"the plan {shown} cannot run: {problems}. Fix it, then `orchestrator check "
            f"{shown}` shows what is left; nothing was cloned."
        )


def _clone(root: Path, plan_rel: Path, target: Path) -> Path:
    """Clone ``root`` into ``target`` with the working tree's plan and config committed."""
    from orchestrator.store.git import Repo

    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} is not empty: name a new or empty directory with --keep DIR")
    clone = Repo.open(root).clone_to(target)
    copied = []
    for rel in (plan_rel, CONFIG_REL):
        source = root / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / rel)
            copied.append(rel.as_posix())
    if clone.dirty_paths():
        clone.commit_paths(copied, "rehearsal: the plan and config as in the working tree")
    return target


def rehearse(
    *,
    repo: Path,
    plan_path: Path,
    scenario_path: Path,
    keep: Path | None,
    settings: Settings,
) -> int:
    """Run ``plan_path`` against the scenario in a scratch clone; print the report."""
    from orchestrator.run.session import start_run
    from orchestrator.store.git import Repo
    from orchestrator.testing.rehearsal import pinned_codex, scripted_codex, scripted_settings
    from orchestrator.testing.scenario import Scenario

    scenario = Scenario.load(scenario_path)
    problems = scenario.answer_problems()
    if problems:
        raise ConfigError(
            f"scenario {scenario_path}: a run would reject these answers: "
            + "; ".join(problems)
            + ". Match steps by their prompt markers (docs/scripted-model.md)."
        )
    codex = pinned_codex(settings)
    root = Repo.open(repo).root
    plan_rel = _plan_in(root, plan_path)
    _check_runnable(plan_path, root / plan_rel, settings)
    with tempfile.TemporaryDirectory(prefix="orchestrator-rehearsal-") as scratch:
        clone = _clone(root, plan_rel, (keep or Path(scratch) / root.name).resolve())
        console.out(f"rehearsal clone: {clone} (your working tree is not touched)")
        with scripted_codex(scenario, Path(scratch) / "codex-home") as server:
            console.out(f"scripted model: {server.url} (scenario {scenario_path})")
            code = start_run(
                repo=clone,
                plan_path=clone / plan_rel,
                settings=scripted_settings(settings, codex=codex, scenario=scenario),
                fresh=True,
            )
            requests = len(server.requests)
        console.out(f"the scripted model answered {requests} requests")
        reports = sorted((clone / RUNS_DIR).glob("*/report.md"))
        if reports:
            console.out(f"run report ({reports[-1] if keep else 'the clone is removed'}):")
            console.out(reports[-1].read_text(encoding="utf-8").rstrip())
        if keep is None:
            console.out("(the clone was temporary; `orchestrator rehearse --keep DIR` keeps it)")
    return code
