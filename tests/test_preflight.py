"""The preflight's git items (run/preflight.py): its independent git queries run at once,
each answer is read as before, and none is left running when an item fails early."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psutil
import pytest

from orchestrator.cli import main
from orchestrator.run.preflight import Target, preflight
from orchestrator.settings.model import Settings
from tests.supervisor_helpers import PLAN_REL, git, write_plan


def _items(repo: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    main(["-C", str(repo), "doctor", "--json"])
    data = json.loads(capsys.readouterr().out)
    return {item["name"]: item for item in data["items"]}


def _children() -> list[psutil.Process]:
    return [c for c in psutil.Process().children() if c.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize(
    ("marker", "directory", "words"),
    [
        ("MERGE_HEAD", False, "a merge is in progress"),
        ("rebase-merge", True, "a rebase is in progress"),
        ("rebase-apply", True, "a rebase or am is in progress"),
        ("CHERRY_PICK_HEAD", False, "a cherry-pick is in progress"),
    ],
)
def test_each_operation_in_progress_is_named_also_from_a_subdirectory(
    git_repo: Path,
    capsys: pytest.CaptureFixture[str],
    marker: str,
    directory: bool,
    words: str,
) -> None:
    sub = git_repo / "docs"
    sub.mkdir()
    assert _items(sub, capsys)["work tree"]["ok"]
    path = git_repo / ".git" / marker
    if directory:
        path.mkdir()
    else:
        path.write_text(git(git_repo, "rev-parse", "HEAD"), encoding="utf-8")
    for asked in (git_repo, sub):
        item = _items(asked, capsys)["work tree"]
        assert not item["ok"]
        assert item["detail"] == f"{words} in {git_repo}"


def test_the_identity_is_the_author_s_and_a_lock_file_is_named(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = _items(git_repo, capsys)
    assert items["git identity"]["detail"] == (
        f"{os.environ['GIT_AUTHOR_NAME']} <{os.environ['GIT_AUTHOR_EMAIL']}>"
    )
    lock = git_repo / ".git" / "index.lock"
    lock.write_text("", encoding="utf-8")
    item = _items(git_repo, capsys)["work tree"]
    assert not item["ok"]
    assert str(lock) in item["detail"]


def test_a_repository_without_commits_leaves_no_git_query_running(tmp_path: Path) -> None:
    """The item that fails first ends the git items: the queries started beside it are
    stopped and reaped, whatever they were doing."""
    repo = tmp_path / "empty"
    repo.mkdir()
    git(repo, "init", "-q")
    assert not _children()
    items = preflight(repo=repo, settings=Settings(), target=Target(), env=os.environ)
    named = {i.name: i for i in items}
    assert named["repository"].detail == f"{repo.resolve()} has no commits"
    assert "git identity" not in named
    assert not _children()


def test_a_dirty_tree_is_named_only_for_a_new_run(git_repo: Path) -> None:
    write_plan(git_repo, [("first", ["true"])])
    (git_repo / "scratch.txt").write_text("x\n", encoding="utf-8")
    plan = git_repo / PLAN_REL
    new = preflight(repo=git_repo, settings=Settings(), target=Target(plan=plan), env=os.environ)
    (tree,) = [i for i in new if i.name == "work tree"]
    assert (tree.ok, tree.detail) == (False, f"uncommitted changes (scratch.txt) in {git_repo}")
    going = preflight(
        repo=git_repo,
        settings=Settings(),
        target=Target(plan=plan, new_run=False),
        env=os.environ,
    )
    (tree,) = [i for i in going if i.name == "work tree"]
    assert (tree.ok, tree.detail) == (True, "continuing a run: kept as is")
    assert not (git_repo / ".git" / "index.lock").exists()
    assert not _children()
