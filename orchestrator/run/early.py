"""The early exits of `run` and `resume`, answered before the run machinery is loaded.

`resume` with nothing to resume, `run` or `resume` while another run holds the lock,
and `run` of a file that is not a plan (missing, empty, binary, not UTF-8, or with no
heading that names a section or a milestone) end in a fraction of the time the full
path needs just to import pydantic, structlog, GitPython and markdown-it. The functions
here use the standard library and the light modules the full path uses for the same
step (:mod:`~orchestrator.store.lock`, :mod:`~orchestrator.store.run_files`,
:func:`~orchestrator.paths.plan_location`, :func:`~orchestrator.plan.text.read_plan_text`,
:mod:`~orchestrator.plan.prescan`), so both paths say the same words.

The full path stays the authority: a check here answers only what it can prove,
and returns (so the full path runs) whenever anything is unclear: a git layout that
only git or GitPython can read (``GIT_DIR``, ``core.worktree``, a bare repository,
an unborn branch, another owner), a run state to read, a dead holder to clear up
after, JSON log lines. Settings are loaded as the full path loads them, so a config
error comes first on both; without a config file or ``ORCH_*`` setting they are not
loaded at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.errors import UsageError
from orchestrator.paths import git_dir_of, plan_location
from orchestrator.settings.known import digest, recall, remember
from orchestrator.settings.sources import config_file_for, setting_variables
from orchestrator.store.lock import RepoLock
from orchestrator.store.run_files import state_files

if TYPE_CHECKING:
    from orchestrator.settings.model import Settings

# Settings flags whose every value argparse lets through is valid (plain strings, booleans,
# the model's own choices): they cannot make loading the settings fail.
LIGHT_FLAGS = frozenset(
    {
        "log.quiet",
        "log.format",
        "codex.binary",
        "codex.model",
        "codex.sandbox",
        "run.allow_dirty",
        "run.branch",
        "loop.review_gate",
        "loop.on_give_up",
    }
)
# Variables that change where git finds the repository.
_GIT_LAYOUT = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_UNUSUAL_CONFIG = re.compile(r"^\s*(?:worktree\s*=|bare\s*=\s*true\b)", re.MULTILINE | re.I)


def nothing_to_resume(plan_rel: str | None) -> UsageError:
    """The error of `resume` when no run of the plan (or of the repository) is unfinished."""
    if plan_rel is not None:
        return UsageError(
            f"no unfinished run of {plan_rel}; start one with `orchestrator run {plan_rel}`"
        )
    return UsageError(
        "no unfinished run in this repository; start one with `orchestrator run PLAN`"
    )


def settings_allow(
    root: Path,
    repo: Path,
    config_file: Path | None,
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    load_settings: Callable[[], Settings],
) -> bool:
    """Whether the settings let an early exit answer: they load (a ConfigError raised
    here is the one the full path raises first) and log lines are text, not JSON.

    Without a config file, an ``ORCH_*`` setting or a flag outside :data:`LIGHT_FLAGS`,
    loading them cannot fail, so they are not loaded (the settings model is pydantic);
    nor are settings whose every input loaded before (:mod:`orchestrator.settings.known`).
    """
    plain = (
        config_file_for(repo, config_file) is None
        and not setting_variables(env)
        and set(flags) <= LIGHT_FLAGS
    )
    if plain:
        return flags.get("log.format") != "json"
    git_dir = git_dir_of(root / ".git")
    key = digest(config_file_for(repo, config_file), env, flags)
    log_format = recall(git_dir, key) if git_dir and key else None
    if log_format is None:
        log_format = load_settings().log.format
        if git_dir and key:
            remember(git_dir, key, log_format)
    return log_format != "json"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _common_dir(git_dir: Path) -> Path:
    common = _read(git_dir / "commondir")
    return git_dir if common is None else (git_dir / common).resolve()


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (
        (path / "objects").is_dir() or (path / "commondir").is_file()
    )


def _head_has_commit(git_dir: Path) -> bool:
    """Whether HEAD names a commit: a sha, or a branch whose ref file or packed ref
    holds one (an unborn branch, a reftable or a symbolic chain: not proven)."""
    head = _read(git_dir / "HEAD")
    if head is None:
        return False
    if _SHA.fullmatch(head):
        return True
    ref = head.removeprefix("ref:").strip()
    if not head.startswith("ref:") or not ref.startswith("refs/heads/"):
        return False
    common = _common_dir(git_dir)
    loose = _read(common / ref)
    if loose is not None:
        return _SHA.fullmatch(loose) is not None
    for line in (_read(common / "packed-refs") or "").splitlines():
        sha, _, name = line.partition(" ")
        if name == ref:
            return _SHA.fullmatch(sha) is not None
    return False


def _ordinary(top: Path, git_dir: Path) -> bool:
    """Ours, and no config setting that moves the work tree or makes it bare."""
    uid = os.geteuid()
    if top.stat().st_uid != uid or git_dir.stat().st_uid != uid:
        return False
    configs = (_common_dir(git_dir) / "config", git_dir / "config.worktree")
    return not any(_UNUSUAL_CONFIG.search(_read(path) or "") for path in configs)


def work_tree(start: Path, env: Mapping[str, str]) -> Path | None:
    """The top of the git work tree holding ``start``, as ``Repo.open`` finds it, when
    that is certain and HEAD names a commit; None when unsure (the full path decides)."""
    if any(name in env for name in _GIT_LAYOUT):
        return None
    try:
        for top in (start, *start.parents):
            if _is_git_dir(top):  # inside a git directory, or a bare repository
                return None
            dot_git = top / ".git"
            if not os.path.lexists(dot_git):
                continue
            git_dir = git_dir_of(dot_git)
            if git_dir is None or not _is_git_dir(git_dir):
                return None
            if _ordinary(top, git_dir) and _head_has_commit(git_dir):
                return top.resolve()
            return None
    except OSError:
        return None
    return None


def check_resume(
    *,
    repo: Path,
    plan_path: Path | None,
    run_id: str | None,
    rebuild: bool,
    answer_given: bool,
    config_file: Path | None,
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    load_settings: Callable[[], Settings],
) -> None:
    """`resume`'s early exits: raise what the full path would raise when the lock is
    held (LockHeldError) or no run exists at all (UsageError); else return."""
    if answer_given:
        return
    root = work_tree(repo, env)
    if root is None or not settings_allow(root, repo, config_file, env, flags, load_settings):
        return
    located = plan_location(root, plan_path) if plan_path is not None else None
    with RepoLock(root, plan=located[1] if located else "?", brief=True) as lock:
        if lock.dead_holder is not None:  # the full path cleans up after it, and says so
            return
        if run_id is None and not rebuild and not state_files(root):
            raise nothing_to_resume(located[1] if located else None)


def check_run(
    *,
    repo: Path,
    plans: list[Path],
    parallel: int | None,
    dry_run: bool,
    config_file: Path | None,
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    load_settings: Callable[[], Settings],
) -> None:
    """`run`'s early exits: raise what the full path would raise when the lock is held
    (LockHeldError) or the file is certainly not a plan (PlanError); else return.

    Like the full path, it takes the lock before reading the plan; a plan with
    nothing left to run needs the parser and git history, so it goes the full way.
    """
    if len(plans) != 1 or parallel is not None or dry_run:
        return
    root = work_tree(repo, env)
    if root is None or not settings_allow(root, repo, config_file, env, flags, load_settings):
        return
    plan_abs, plan_rel = plan_location(root, plans[0])
    with RepoLock(root, plan=plan_rel, brief=True) as lock:
        if lock.dead_holder is not None:  # the full path cleans up after it, and says so
            return
        from orchestrator.plan.prescan import headings_if_not_a_plan, not_a_plan
        from orchestrator.plan.text import read_plan_text

        headings = headings_if_not_a_plan(read_plan_text(plan_abs))
        if headings is not None:
            raise not_a_plan(plan_abs, headings)
