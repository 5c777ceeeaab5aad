"""Shared fixtures. The suite guards itself: no test may change os.environ or
leave git configuration from the user's machine in play."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.paths import LOCAL_CODEX
from orchestrator.testing.fake_codex import install_fake_codex

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
}


@pytest.fixture(autouse=True, scope="session")
def _isolated_git_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the user's git config, templates and GIT_* variables out of every test."""
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith("GIT_"):
            del os.environ[key]
    os.environ.update(GIT_IDENTITY)
    os.environ["GIT_CONFIG_GLOBAL"] = str(home / "gitconfig")
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    os.environ["HOME"] = str(home)
    # codex credentials for the preflight's sake (the fake codex needs none); tests of the
    # credential check pass their own environment.
    os.environ.pop("CODEX_HOME", None)
    os.environ["CODEX_API_KEY"] = "test-credential"
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _environment_unchanged() -> Iterator[None]:
    """Fail a test that changes os.environ (use monkeypatch or pass env explicitly)."""
    before = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    yield
    after = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    if before != after:
        changed = sorted(set(before.items()) ^ set(after.items()))
        pytest.fail(f"test changed os.environ: {changed}")


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A fresh git repository with one commit, identity pinned."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# sample\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture(scope="session")
def fake_codex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake codex (a real process that plays the scenario in FAKE_CODEX_SCENARIO)."""
    return install_fake_codex(tmp_path_factory.mktemp("fakebin"))


@pytest.fixture(scope="session")
def lean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lean codex stand-in (tests/lean_codex.py): starts in milliseconds, plays the
    chaos plan's one script."""
    from tests.lean_codex import install_lean_codex

    return install_lean_codex(tmp_path_factory.mktemp("leanbin"))


@pytest.fixture
def scenario_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the test writes its scenario; FAKE_CODEX_SCENARIO points at it."""
    path = tmp_path / "scenario.json"
    monkeypatch.setenv("FAKE_CODEX_SCENARIO", str(path))
    return path


@pytest.fixture(scope="session")
def codex_bin() -> Path:
    """The real pinned codex binary (installed by `make test`)."""
    if not LOCAL_CODEX.exists():
        pytest.fail(f"the pinned codex is not installed at {LOCAL_CODEX}; run `make install`")
    return LOCAL_CODEX


def install_hanging_git(directory: Path, *, hang_on: tuple[str, ...], mark: Path) -> Path:
    """A ``git`` on PATH (put ``directory`` first) that hangs on the subcommands
    ``hang_on``: it writes its pid to ``mark`` and sleeps; anything else runs real git."""
    real = shutil.which("git")
    assert real is not None
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "git"
    cases = "|".join(hang_on)
    shim.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do\n'
        '  case "$a" in\n'
        f'    {cases}) echo $$ > "{mark}"; exec sleep 600 ;;\n'
        "  esac\n"
        "done\n"
        f'exec "{real}" "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return directory
