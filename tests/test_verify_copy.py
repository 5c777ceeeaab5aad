"""The verdict tree and its working copy, on real git repositories; checks under the sandbox."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import anyio
import psutil
import pytest

from orchestrator.milestone.validation import run_check
from orchestrator.plan.model import Check
from orchestrator.settings.model import DEFAULT_PROTECTED, CheckSettings
from orchestrator.store.git import Repo
from orchestrator.verify.candidate import build_verdict
from orchestrator.verify.protect import Pattern, glob_regex, splice
from orchestrator.verify.sandbox import probe_sandbox, sandbox_argv
from orchestrator.verify.workcopy import WorkCopy
from tests.conftest import git

PATTERNS = [Pattern.parse(p) for p in DEFAULT_PROTECTED]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(git_repo: Path) -> Path:
    _write(
        git_repo,
        {
            ".gitignore": ".venv/\nlocal/\n",
            "tests/test_calc.py": (
                "from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n"
            ),
            "tests/data/expected.txt": "4\n",
            "calc.py": "def add(a, b):\n    return 0\n",
            "pyproject.toml": (
                '[project]\nname = "calc"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
            ),
            "scripts/check.sh": "pytest\n",
            ".venv/bin/tool": "#!/bin/sh\n",
        },
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "project")
    return git_repo


def test_the_verdict_tree_restores_protected_files_and_keeps_new_ones(
    project: Path, tmp_path: Path
) -> None:
    checkpoint = git(project, "rev-parse", "HEAD").strip()
    _write(
        project,
        {
            "calc.py": "def add(a, b):\n    return a + b\n",
            "tests/test_calc.py": "def test_add():\n    assert True\n",
            "tests/data/expected.txt": "5\n",
            "tests/test_new.py": "def test_new():\n    assert 1\n",
            "pyproject.toml": '[project]\nname = "calc"\ndependencies = ["attrs"]\n\n'
            '[tool.pytest.ini_options]\naddopts = "--collect-only"\n',
            "local/conftest.py": "raise SystemExit(0)\n",
            "conftest.py": "# new, kept\n",
        },
    )
    (project / "scripts" / "check.sh").unlink()
    repo = Repo.open(project)
    verdict = build_verdict(
        repo, checkpoint=checkpoint, patterns=PATTERNS, commands=["bash scripts/check.sh"]
    )
    assert verdict.changed_protected == [
        "pyproject.toml",
        "scripts/check.sh",
        "tests/data/expected.txt",
        "tests/test_calc.py",
    ]
    copy = WorkCopy(repo, tmp_path / "copy", [".venv"])
    copy.checkout(verdict.tree)
    root = copy.root
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert "assert add(2, 2) == 4" in (root / "tests/test_calc.py").read_text()
    assert (root / "tests/data/expected.txt").read_text() == "4\n"
    assert (root / "scripts/check.sh").read_text() == "pytest\n"
    assert (root / "tests/test_new.py").exists()
    assert (root / "conftest.py").exists()
    assert not (root / "local").exists()  # gitignored: never decides
    pyproject = (root / "pyproject.toml").read_text()
    assert 'dependencies = ["attrs"]' in pyproject
    assert 'addopts = "-q"' in pyproject
    assert "collect-only" not in pyproject
    assert (root / ".venv").is_symlink()
    assert (root / ".venv").resolve() == project / ".venv"
    # a round's leftovers go, tracked edits are undone, the environment link stays
    (root / "tests/test_calc.py").write_text("# edited by a check\n")
    (root / "leftover.py").write_text("x = 1\n")
    copy.checkout(verdict.tree)
    assert "assert add(2, 2) == 4" in (root / "tests/test_calc.py").read_text()
    assert not (root / "leftover.py").exists()
    assert (root / ".venv").is_symlink()


def test_overlay_off_judges_with_the_candidate_versions(project: Path) -> None:
    checkpoint = git(project, "rev-parse", "HEAD").strip()
    _write(project, {"tests/test_calc.py": "def test_add():\n    assert True\n"})
    repo = Repo.open(project)
    verdict = build_verdict(
        repo, checkpoint=checkpoint, patterns=PATTERNS, commands=[], overlay=False
    )
    assert verdict.tree == verdict.candidate_tree
    assert verdict.changed_protected == ["tests/test_calc.py"]


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("tests/**", "tests/a/b.py", True),
        ("**/test_*.py", "test_a.py", True),
        ("**/test_*.py", "src/pkg/test_a.py", True),
        ("**/test_*.py", "src/pkg/atest_a.py", False),
        ("Makefile", "sub/Makefile", False),
        ("jest.config.*", "jest.config.ts", True),
    ],
)
def test_glob_patterns(glob: str, path: str, hit: bool) -> None:
    import re

    assert (re.fullmatch(glob_regex(glob), path) is not None) is hit


def test_splice_json_and_ini_sections() -> None:
    new = '{"name": "x", "scripts": {"test": "true"}, "devDependencies": {"a": "1"}}'
    old = '{"name": "x", "scripts": {"test": "jest"}}'
    merged = splice("package.json", new, old, ["scripts"])
    assert '"jest"' in merged
    assert '"devDependencies"' in merged
    assert '"true"' not in merged
    cfg_new = "[metadata]\nname = y\n[tool:pytest]\naddopts = --deselect t.py::a\n"
    cfg_old = "[metadata]\nname = x\n[tool:pytest]\naddopts = -q\n"
    merged = splice("setup.cfg", cfg_new, cfg_old, ["tool:pytest"])
    assert "name = y" in merged
    assert "addopts = -q" in merged
    assert "deselect" not in merged


def _sandbox_or_skip(codex_bin: Path, workspace: Path) -> str:
    problem = anyio.run(probe_sandbox, str(codex_bin), workspace)
    assert problem is None, problem  # the pinned codex's sandbox works on this machine
    return str(codex_bin)


def test_a_sandboxed_check_cannot_write_the_repository_and_leaves_no_process(
    project: Path, codex_bin: Path, tmp_path: Path
) -> None:
    repo = Repo.open(project)
    copy = WorkCopy(repo, tmp_path / "copy", [".venv"])
    copy.checkout(repo.git("rev-parse", "HEAD^{tree}"))
    codex = _sandbox_or_skip(codex_bin, copy.root)
    marker = f"orch-daemon-{uuid.uuid4().hex[:8]}"
    (project / ".agent").mkdir()
    (project / ".agent" / "orchestrator.toml").write_text("[loop]\n", encoding="utf-8")
    tmp = tmp_path / "check-tmp"
    tmp.mkdir()
    command = (
        f"touch {tmp_path}/outside-the-copy; touch {tmp}/allowed;"
        f" touch {project}/.git/forged;"
        f" echo 'shell = \"true\"' >> {project}/.agent/orchestrator.toml;"
        f" echo hacked > {project}/calc.py; echo x > .venv/planted.pth;"
        f" setsid bash -c 'exec -a {marker} sleep 300' </dev/null >/dev/null 2>&1 &"
        " echo here > written-in-copy.txt; exit 0"
    )
    record = anyio.run(
        lambda: run_check(
            Check(id="1.1", command=command, line=0, milestone="1"),
            cwd=copy.root,
            settings=CheckSettings(timeout=60),
            log_dir=None,
            wrap=lambda argv: sandbox_argv(codex, copy.root, argv, [tmp]),
        )
    )
    assert record.passed, record.output_tail
    assert (copy.root / "written-in-copy.txt").exists()
    assert (tmp / "allowed").exists()
    assert not (tmp_path / "outside-the-copy").exists()
    assert not (project / ".git" / "forged").exists()
    assert "true" not in (project / ".agent" / "orchestrator.toml").read_text()
    assert (project / "calc.py").read_text() == "def add(a, b):\n    return 0\n"
    assert not (project / ".venv" / "planted.pth").exists()
    alive = [
        p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])
    ]
    assert alive == [], f"a double-forked process survived the check: {alive}"
    assert os.path.isdir(copy.root / ".git")


def test_a_copy_killed_while_being_made_is_made_again(git_repo: Path, tmp_path: Path) -> None:
    """A SIGKILL between `git init` and the alternates file left a copy that could never
    read the repository's objects; the next run makes it again."""
    repo = Repo.open(git_repo)
    root = tmp_path / "copy"
    git(git_repo, "init", "-q", str(root))  # what the killed run left: no alternates
    tree = repo.git("rev-parse", "HEAD^{tree}")
    WorkCopy(repo, root).checkout(tree)
    assert (root / "README.md").read_text() == "# sample\n"


def test_lock_files_a_killed_run_left_in_the_copy_do_not_block_the_next(
    git_repo: Path, tmp_path: Path
) -> None:
    repo = Repo.open(git_repo)
    copy = WorkCopy(repo, tmp_path / "copy")
    tree = repo.git("rev-parse", "HEAD^{tree}")
    copy.checkout(tree)
    for name in ("HEAD.lock", "index.lock"):  # a SIGKILL in the middle of `git reset`
        (copy.git_dir / name).write_text("", encoding="utf-8")
    (copy.root / "README.md").write_text("changed by a check\n", encoding="utf-8")
    copy.checkout(tree)
    assert (copy.root / "README.md").read_text() == "# sample\n"


def test_a_checkpoint_is_checked_out_from_its_commit_over_whatever_a_round_left(
    git_repo: Path, tmp_path: Path
) -> None:
    repo = Repo.open(git_repo)
    checkpoint = repo.head()
    copy = WorkCopy(repo, tmp_path / "copy")
    (git_repo / "new.txt").write_text("candidate\n", encoding="utf-8")
    copy.checkout(repo.work_tree_snapshot())
    assert (copy.root / "new.txt").exists()
    (copy.root / "left-by-a-check.log").write_text("x\n", encoding="utf-8")
    (copy.root / "README.md").write_text("changed by a check\n", encoding="utf-8")
    copy.checkout_commit(checkpoint)
    assert sorted(p.name for p in copy.root.iterdir()) == sorted(
        p.name for p in git_repo.iterdir() if p.name != "new.txt"
    )
    assert (copy.root / "README.md").read_text() == "# sample\n"


def test_an_assertion_moved_into_a_new_helper_file_is_no_weakening(project: Path) -> None:
    from orchestrator.verify.weakening import analyse_changes

    checkpoint = git(project, "rev-parse", "HEAD").strip()
    _write(
        project,
        {
            "tests/test_calc.py": "from calc import add\nfrom tests.checks import check_add\n\n"
            "def test_add():\n    check_add(add)\n",
            "tests/checks.py": "def check_add(add):\n    assert add(2, 2) == 4\n",
        },
    )
    repo = Repo.open(project)
    verdict = build_verdict(repo, checkpoint=checkpoint, patterns=PATTERNS, commands=[])
    assert analyse_changes(repo, checkpoint, verdict) == []
    _write(project, {"tests/checks.py": "def check_add(add):\n    assert add(2, 2)\n"})
    verdict = build_verdict(repo, checkpoint=checkpoint, patterns=PATTERNS, commands=[])
    found = analyse_changes(repo, checkpoint, verdict)
    assert found == ["assertions removed or changed: `assert add(2, 2) == 4`"]
