from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import anyio
import psutil
import pytest

from orchestrator.errors import GitError
from orchestrator.store.git import Repo
from tests.chaos_helpers import wait_for as wait_until
from tests.conftest import git, install_hanging_git

TRAILERS = {"ExecPlan": "docs/plan.md", "Milestone": "1", "Attempts": "2", "Codex-Thread": "t-1"}


def _runs_file(repo: Path) -> Path:
    f = repo / ".agent" / "runs" / "r1" / "state.json"
    f.parent.mkdir(parents=True)
    f.write_text("{}", encoding="utf-8")
    return f


def test_open_rejects_non_repo_and_empty_repo(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository"):
        Repo.open(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(GitError, match="no commits yet"):
        Repo.open(empty)


def test_open_from_subdirectory_finds_root(git_repo: Path) -> None:
    sub = git_repo / "a" / "b"
    sub.mkdir(parents=True)
    repo = Repo.open(sub)
    assert repo.root == git_repo.resolve()
    assert repo.head() == git(git_repo, "rev-parse", "HEAD").strip()
    assert repo.current_branch() == "main"
    assert repo.commit_count() == 1


def test_dirty_ignores_runs_dir_but_counts_untracked(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    _runs_file(git_repo)
    assert not repo.is_dirty()
    (git_repo / "new.txt").write_text("x", encoding="utf-8")
    (git_repo / "README.md").write_text("changed\n", encoding="utf-8")
    assert repo.is_dirty()
    assert repo.dirty_paths() == ["README.md", "new.txt"]


def test_exclude_runs_dir_is_idempotent(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    repo.exclude_runs_dir()
    repo.exclude_runs_dir()
    lines = (git_repo / ".git" / "info" / "exclude").read_text(encoding="utf-8").splitlines()
    assert lines.count("/.agent/runs/") == 1
    _runs_file(git_repo)
    assert git(git_repo, "status", "--porcelain") == ""


def test_diff_includes_untracked_and_leaves_index_alone(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    checkpoint = repo.head()
    _runs_file(git_repo)
    (git_repo / "README.md").write_text("# sample\nmore\n", encoding="utf-8")
    (git_repo / "src").mkdir()
    (git_repo / "src" / "new.py").write_text("print(1)\n", encoding="utf-8")
    diff = repo.diff_since(checkpoint)
    assert "+more" in diff
    assert "+++ b/src/new.py" in diff
    assert ".agent" not in diff
    assert diff == repo.diff_since(checkpoint)  # deterministic
    # the real index is untouched: the new file is still untracked
    assert "?? src/" in git(git_repo, "status", "--porcelain")


def test_commit_all_with_trailers_and_milestone_commits(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    _runs_file(git_repo)
    (git_repo / "code.py").write_text("x = 1\n", encoding="utf-8")
    sha = repo.commit_all("docs/plan.md: milestone 1 Setup\n\n# summary line kept", TRAILERS)
    assert sha == repo.head()
    body = git(git_repo, "log", "-1", "--format=%B")
    assert "# summary line kept" in body
    assert body.rstrip().endswith(
        "ExecPlan: docs/plan.md\nMilestone: 1\nAttempts: 2\nCodex-Thread: t-1"
    )
    files = git(git_repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files == ["code.py"]  # the run artefacts stay out
    # only the plan changed (or nothing): still one commit per milestone
    sha2 = repo.commit_all("docs/plan.md: milestone 2", {**TRAILERS, "Milestone": "2"})
    other = repo.commit_all("other plan", {**TRAILERS, "ExecPlan": "docs/other.md"})
    found = repo.milestone_commits("./docs/plan.md")
    assert {k: v.sha for k, v in found.items()} == {"1": sha, "2": sha2}
    assert found["1"].trailers["Codex-Thread"] == "t-1"
    assert found["1"].subject == "docs/plan.md: milestone 1 Setup"
    assert list(repo.milestone_commits("docs/plan.md", since=sha)) == ["2"]
    assert list(repo.milestone_commits("docs/other.md")) == ["1"]
    assert repo.milestone_commits("docs/other.md")["1"].sha == other


def test_milestone_commits_follow_first_parent_only(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    git(git_repo, "checkout", "-q", "-b", "side")
    repo.commit_all("side", TRAILERS)
    git(git_repo, "checkout", "-q", "main")
    (git_repo / "m.txt").write_text("m", encoding="utf-8")
    repo.commit_all("main work", {"Other": "x"})
    git(git_repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    assert repo.milestone_commits("docs/plan.md") == {}


def test_commit_without_identity_says_how_to_fix(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("EMAIL", "")
    git(git_repo, "config", "user.useConfigOnly", "true")
    with pytest.raises(GitError, match="git config user.email"):
        Repo.open(git_repo).commit_all("m", TRAILERS)


def test_create_branch(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    repo.create_branch("orch/run")
    assert repo.current_branch() == "orch/run"
    with pytest.raises(GitError, match="already exists"):
        repo.create_branch("main")


def test_reset_to_removes_changes_but_keeps_runs_and_ignored(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    state = _runs_file(git_repo)
    (git_repo / ".gitignore").write_text("build/\n", encoding="utf-8")
    checkpoint = repo.commit_all("ignore build", {})
    (git_repo / "build").mkdir()
    (git_repo / "build" / "out.o").write_text("o", encoding="utf-8")
    (git_repo / "README.md").write_text("changed\n", encoding="utf-8")
    (git_repo / "junk" / "deep").mkdir(parents=True)
    (git_repo / "junk" / "deep" / "f").write_text("j", encoding="utf-8")
    repo.reset_to(checkpoint)
    assert repo.head() == checkpoint
    assert (git_repo / "README.md").read_text(encoding="utf-8") == "# sample\n"
    assert not (git_repo / "junk").exists()
    assert not repo.is_dirty()
    assert state.exists()
    assert (git_repo / "build" / "out.o").exists()


def test_current_branch_is_none_when_detached(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    repo.commit_all("second", {})
    detached = subprocess.run(
        ["git", "checkout", "-q", "--detach"], cwd=git_repo, check=True, capture_output=True
    )
    assert detached.returncode == 0
    assert repo.current_branch() is None


def test_init_with_commit_and_log_oneline(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "a.txt").write_text("a", encoding="utf-8")
    repo = Repo.init_with_commit(tmp_path / "proj", message="Sample project")
    assert repo.current_branch() == "main"
    assert not repo.is_dirty()
    [line] = repo.log_oneline(limit=5)
    assert line.endswith(" Sample project")
    assert line.split()[0] == repo.head()[: len(line.split()[0])]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_hung_git_is_stopped_at_its_time_limit(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = tmp_path / "hung.pid"
    shim = install_hanging_git(tmp_path / "bin", hang_on=("status",), mark=mark)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    repo = Repo.open(git_repo)
    repo.timeout = 1.0
    with pytest.raises(GitError, match="did not finish within 1s"):
        repo.is_dirty()
    assert _gone(int(mark.read_text(encoding="utf-8")))


def test_cancelling_a_call_stops_its_hung_git_at_once(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = tmp_path / "hung.pid"
    shim = install_hanging_git(tmp_path / "bin", hang_on=("status",), mark=mark)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    repo = Repo.open(git_repo)  # the default time limit: minutes

    async def main() -> None:
        with anyio.fail_after(60):  # without the fix: blocked until git's own limit
            async with anyio.create_task_group() as tg:

                async def cancel_once_hung() -> None:
                    # another process writes the file: nothing to wait on but the file
                    while not mark.exists() or not mark.read_text(encoding="utf-8").strip():  # noqa: ASYNC110
                        await anyio.sleep(0.02)
                    tg.cancel_scope.cancel()

                tg.start_soon(cancel_once_hung)
                await repo.call(repo.is_dirty)

    anyio.run(main)
    pid = int(mark.read_text(encoding="utf-8"))
    wait_until(lambda: _gone(pid), 60, "the hung git to be stopped")


def _pausing_git(directory: Path, on: str, mark: Path, release: Path) -> Path:
    """A ``git`` on PATH that, for subcommand ``on``, writes its pid to ``mark`` and waits
    for ``release`` to exist before it runs the real git."""
    real = shutil.which("git")
    directory.mkdir(parents=True)
    (directory / "git").write_text(
        "#!/bin/sh\n"
        f'case "$1" in {on})\n'
        f'  echo $$ > "{mark}"\n'
        f'  while [ ! -e "{release}" ]; do sleep 0.02; done ;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    (directory / "git").chmod(0o755)
    return directory


def test_a_stop_lets_a_git_write_in_progress_finish(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killing git inside a ref transaction can leave its lock files: a write is
    shielded from the stop and finishes; what follows it is not started."""
    mark, release = tmp_path / "paused.pid", tmp_path / "release"
    shim = _pausing_git(tmp_path / "bin", "update-ref", mark, release)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    repo = Repo.open(git_repo)
    head = repo.head()
    after: list[str] = []

    async def writer(work: anyio.CancelScope) -> None:
        with work:
            await repo.write(repo.git, "update-ref", "refs/heads/saved", head)
            after.append(await repo.write(repo.git, "rev-parse", "HEAD"))

    async def main() -> None:
        with anyio.fail_after(60):  # only against a hang
            async with anyio.create_task_group() as tg:
                work = anyio.CancelScope()  # the run's work, which a signal cancels
                tg.start_soon(writer, work)
                while not mark.exists():  # noqa: ASYNC110 (another process writes it)
                    await anyio.sleep(0.02)
                work.cancel()
                repo.stopping()
                await anyio.wait_all_tasks_blocked()  # the stop has reached the writer
                release.touch()
        assert work.cancelled_caught

    anyio.run(main)
    assert git(git_repo, "rev-parse", "refs/heads/saved").strip() == head
    assert after == []  # the write after the stop never began
    assert not list((git_repo / ".git").rglob("*.lock"))


def test_a_git_write_still_hung_after_the_stop_wait_is_stopped(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from structlog.testing import capture_logs

    mark = tmp_path / "hung.pid"
    shim = install_hanging_git(tmp_path / "bin", hang_on=("update-ref",), mark=mark)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    repo = Repo.open(git_repo)
    head = repo.head()

    async def main() -> None:
        with anyio.fail_after(60), anyio.CancelScope() as work:  # fail_after: no hang
            async with anyio.create_task_group() as tg:

                async def stop_once_hung() -> None:
                    while not mark.exists() or not mark.read_text(encoding="utf-8").strip():  # noqa: ASYNC110
                        await anyio.sleep(0.02)
                    work.cancel()
                    repo.stopping(wait=0.2)

                tg.start_soon(stop_once_hung)
                await repo.write(repo.git, "update-ref", "refs/heads/saved", head)
        assert work.cancelled_caught

    with capture_logs() as logs:
        anyio.run(main)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["git_write_stopped"]
    pid = int(mark.read_text(encoding="utf-8"))
    wait_until(lambda: _gone(pid), 60, "the hung git to be stopped")


def test_a_stopped_git_gets_the_time_to_remove_its_lock_files(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git removes ``index.lock`` when it is sent SIGTERM; a SIGKILL leaves the lock and
    the next run finds the repository locked."""
    lock = git_repo / ".git" / "index.lock"
    shim = tmp_path / "bin"
    shim.mkdir()
    real = shutil.which("git")
    (shim / "git").write_text(
        "#!/bin/sh\n"
        'case "$*" in *status*)\n'
        f'  touch "{lock}"; trap \'rm -f "{lock}"; exit 143\' TERM\n'
        "  while :; do sleep 0.05; done ;;\n"
        "esac\n"
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")
    repo = Repo.open(git_repo)
    repo.timeout = 1.0
    with pytest.raises(GitError, match="did not finish within 1s"):
        repo.is_dirty()
    assert not lock.exists()


def test_reading_head_starts_no_lingering_git_process(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    sha = repo.head()
    assert sha == git(git_repo, "rev-parse", "HEAD").strip()
    lingering = [p.cmdline() for p in psutil.Process().children(recursive=True)]
    assert not [c for c in lingering if c[:2] == ["git", "cat-file"]], lingering


def test_a_same_size_edit_in_the_second_of_the_commit_is_seen_later(git_repo: Path) -> None:
    """git rehashes "racily clean" files (changed in the second the index was written)
    only if the index copy keeps its mtime; a copy stamped later hid the edit."""
    calc = git_repo / "calc.py"
    for _ in range(5):  # the commit and the edit must fall in the same second
        calc.write_text("return a - b\n", encoding="utf-8")
        git(git_repo, "add", "calc.py")
        git(git_repo, "commit", "-q", "-m", "calc")
        calc.write_text("return a + b\n", encoding="utf-8")  # same size
        index = (git_repo / ".git" / "index").stat().st_mtime
        if int(calc.stat().st_mtime) == int(index):
            break
    else:
        pytest.fail("could not make an edit in the same second as the commit")
    time.sleep(1.1)  # the index copy is made in a later second
    repo = Repo.open(git_repo)
    assert "+return a + b" in repo.diff_since(repo.head())
