"""Early exits answer before the heavy modules load, with the full path's very words.

Each test runs the real CLI twice where it can: once as a person would (the early
exit must answer without importing pydantic, structlog, GitPython, markdown-it, ...)
and once forced down the full path (see ``tests/early_helpers.py``); exit code,
stdout and stderr must be identical. The fall-through tests show that what the early
exits cannot prove still goes the full way: a run to read, an unfinished run to resume.
"""

from __future__ import annotations

import argparse
import json
import os
import typing
from pathlib import Path

import pytest

from orchestrator.commands.flags import add_common_flags, add_settings_flags
from orchestrator.paths import PACKAGE_DIR
from orchestrator.run.early import LIGHT_FLAGS, work_tree
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.lock import lock_path
from orchestrator.store.state import MilestoneState, RunState, new_run_id, save_state, state_path
from tests.conftest import git
from tests.early_helpers import full_path_env, run_cli
from tests.lock_helpers import lock_holder
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    invocations,
    write_plan,
    write_scenario,
)


@pytest.mark.parametrize("plan", [None, PLAN_REL], ids=["any-plan", "one-plan"])
@pytest.mark.parametrize("flags", [False, True], ids=["no-flags", "codex-bin"])
def test_resume_with_no_run_exits_early_with_the_full_paths_message(
    git_repo: Path, fake_codex: Path, plan: str | None, flags: bool
) -> None:
    args = [
        "resume",
        *([plan] if plan else []),
        *(["--codex-bin", str(fake_codex)] if flags else []),
    ]
    sub = git_repo / "src"
    sub.mkdir()  # from a subdirectory: the repository is found above it
    early = run_cli(sub, *args)
    full = run_cli(sub, *args, env=full_path_env())
    assert early.code == 2
    assert "orchestrator: no unfinished run" in early.err
    assert early.heavy == []
    assert "structlog" in full.modules  # the full path configured logging
    assert early.same_answer(full), (early, full)


def test_with_a_config_file_the_settings_are_loaded_first(git_repo: Path) -> None:
    """A config only the settings model can check: the early exit loads the settings as
    the full path does (so a config error comes first on both), and nothing heavier;
    the same inputs again are answered from what it remembered, a changed one is not."""
    config = git_repo / ".agent" / "orchestrator.toml"
    config.parent.mkdir()
    config.write_text((PACKAGE_DIR / "templates" / "orchestrator.toml").read_text("utf-8"))
    early = run_cli(git_repo, "resume")
    full = run_cli(git_repo, "resume", env=full_path_env())
    assert early.code == 2
    assert "orchestrator: no unfinished run" in early.err
    assert early.heavy == ["pydantic"]
    assert early.same_answer(full), (early, full)
    again = run_cli(git_repo, "resume")
    assert again.heavy == []
    assert again.same_answer(full), (again, full)
    known = (git_repo / ".git" / "orchestrator" / "settings-known").read_text("utf-8")
    assert "max_attempts" not in known  # digests only
    json_logs = run_cli(git_repo, "resume", env={**os.environ, "ORCH_LOG__FORMAT": "json"})
    assert "pydantic" in json_logs.modules  # another input: loaded, then the full way
    assert "structlog" in json_logs.modules
    assert run_cli(git_repo, "resume", env={**os.environ, "ORCH_LOG__FORMAT": "json"}).heavy
    config.write_text("[loop]\nmax_attempts = -1\n", encoding="utf-8")
    early = run_cli(git_repo, "resume")
    full = run_cli(git_repo, "resume", env=full_path_env())
    assert early.code == 2
    assert "invalid setting loop.max_attempts = -1" in early.err
    assert early.same_answer(full), (early, full)


def test_resume_and_status_while_the_lock_is_held(git_repo: Path) -> None:
    with lock_holder(git_repo, "docs/plan.md", "20260101-000000-aaaa") as holder:
        early = run_cli(git_repo, "resume")
        full = run_cli(git_repo, "resume", env=full_path_env())
        status = run_cli(git_repo, "status")
        status_json = run_cli(git_repo, "status", "--json")
    assert early.code == 75
    assert f"pid {holder.pid}" in early.err
    assert "run 20260101-000000-aaaa" in early.err
    assert early.heavy == []
    assert "structlog" in full.modules  # the full path configured logging
    assert early.same_answer(full), (early, full)
    assert status.code == 0
    lines = status.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"lock held by pid {holder.pid} on host ")
    assert lines[1] == f"no runs in {git_repo}"
    assert status.heavy == []
    lock = json.loads(status_json.out)["lock"]
    assert (lock["pid"], lock["plan"], lock["run_id"]) == (
        holder.pid,
        "docs/plan.md",
        "20260101-000000-aaaa",
    )
    assert status_json.heavy == []


def test_a_dead_holder_on_record_goes_the_full_way(git_repo: Path) -> None:
    """The full path clears up after a run that died holding the lock; the early exit
    leaves that to it."""
    with lock_holder(git_repo, "docs/plan.md") as holder:
        holder.kill()
        holder.wait()
    assert lock_path(git_repo).read_text(encoding="utf-8")  # the dead holder, on record
    ran = run_cli(git_repo, "resume")
    assert ran.code == 2
    assert "orchestrator: no unfinished run" in ran.err
    assert "pydantic" in ran.modules
    assert lock_path(git_repo).read_text(encoding="utf-8") == ""
    again = run_cli(git_repo, "resume")
    assert again.same_answer(ran)
    assert again.heavy == []


def test_status_without_runs_is_light(git_repo: Path) -> None:
    text = run_cli(git_repo, "status")
    as_json = run_cli(git_repo, "status", "--json")
    assert (text.code, text.out, text.err) == (0, f"no runs in {git_repo}\n", "")
    assert json.loads(as_json.out) == {
        "repo": str(git_repo),
        "lock": None,
        "runs": [],
        "older_runs_not_shown": 0,
        "errors": [],
        "worktrees": [],
    }
    assert text.heavy == as_json.heavy == []


def _unfinished_run(repo: Path) -> RunState:
    state = RunState(
        run_id=new_run_id(),
        plan_path=PLAN_REL,
        status="interrupted",
        base_commit=git(repo, "rev-parse", "HEAD").strip(),
        branch="main",
        pinned_checks={"1": ["test -f done.txt"], "plan": []},
        milestones=[MilestoneState(id="1", title="Make the file")],
    )
    save_state(state_path(repo, state.run_id), state)
    return state


def test_status_with_a_run_reads_it(git_repo: Path) -> None:
    write_plan(git_repo, [("Make the file", ["test -f done.txt"])])
    state = _unfinished_run(git_repo)
    ran = run_cli(git_repo, "status")
    assert ran.code == 0
    assert f"run {state.run_id}  plan {PLAN_REL}" in ran.out
    assert "pydantic" in ran.modules


def test_an_unfinished_run_is_resumed(git_repo: Path, fake_codex: Path, tmp_path: Path) -> None:
    write_plan(git_repo, [("Make the file", ["test -f done.txt"])])
    state = _unfinished_run(git_repo)
    scenario = write_scenario(
        tmp_path / "scenario.json", [implement("1", "echo ok > done.txt"), approve_all()]
    )
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}
    ran = run_cli(git_repo, "resume", "--codex-bin", str(fake_codex), env=env)
    assert ran.code == 0, ran.err
    assert invocations(scenario), "the resumed run never reached codex"
    resumed = json.loads(state_path(git_repo, state.run_id).read_text(encoding="utf-8"))
    assert resumed["status"] == "passed"


def _layouts(base: Path, repo: Path) -> dict[str, tuple[Path, bool]]:
    """Places to start from -> (the place, whether the early exits may answer there)."""
    (repo / "src" / "deep").mkdir(parents=True)
    worktree = base / "linked"
    git(repo, "worktree", "add", "-q", str(worktree), "-b", "linked")
    packed = base / "packed"
    git(base, "clone", "-q", str(repo), str(packed))
    git(packed, "pack-refs", "--all")
    detached = base / "detached"
    git(base, "clone", "-q", str(repo), str(detached))
    git(detached, "checkout", "-q", "--detach")
    unborn = base / "unborn"
    git(base, "init", "-q", str(unborn))
    moved = base / "moved"
    git(base, "clone", "-q", str(repo), str(moved))
    git(moved, "config", "core.worktree", str(base))
    moved_per_tree = base / "moved-per-tree"
    git(base, "clone", "-q", str(repo), str(moved_per_tree))
    git(moved_per_tree, "config", "extensions.worktreeConfig", "true")
    git(moved_per_tree, "config", "--worktree", "core.worktree", str(base))
    empty_mount = repo / "src" / "sandbox"
    (empty_mount / ".git").mkdir(parents=True)  # what codex's sandbox leaves behind
    plain = base / "plain"
    plain.mkdir()
    return {
        "top": (repo, True),
        "subdirectory": (repo / "src" / "deep", True),
        "linked worktree": (worktree, True),
        "packed refs": (packed, True),
        "detached HEAD": (detached, True),
        "no commit yet": (unborn, False),
        "core.worktree": (moved, False),
        "core.worktree in config.worktree": (moved_per_tree, False),
        "empty .git mount point": (empty_mount, False),
        "no repository": (plain, False),
    }


def test_the_early_repository_lookup_agrees_with_repo_open(git_repo: Path, tmp_path: Path) -> None:
    for name, (start, answers) in _layouts(tmp_path, git_repo).items():
        found = work_tree(start, os.environ)
        assert (found is not None) == answers, name
        if found is not None:
            assert found == Repo.open(start).root, name
    assert work_tree(git_repo, {**os.environ, "GIT_DIR": str(git_repo / ".git")}) is None


def test_light_flags_take_any_value_argparse_lets_through() -> None:
    """The early exits trust these flags not to make loading the settings fail."""
    parser = argparse.ArgumentParser()
    add_settings_flags(parser)
    add_common_flags(parser, default=None)
    actions = {a.dest: a for a in parser._actions}
    for dotted in LIGHT_FLAGS:
        section, key = dotted.split(".")
        model = Settings.model_fields[section].annotation
        assert isinstance(model, type)
        field = model.model_fields[key]
        validators = model.__pydantic_decorators__.field_validators.values()
        assert not any(key in v.info.fields for v in validators), dotted
        action = actions[dotted]
        if action.choices is not None:
            assert set(action.choices) == set(typing.get_args(field.annotation)), dotted
        elif action.nargs == 0:
            assert field.annotation is bool, dotted
        else:
            assert action.type is None, dotted
            assert field.annotation == (str | None), dotted
            assert not field.metadata, dotted
