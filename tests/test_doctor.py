"""Preflight: `orchestrator doctor` lists every item; `run` refuses with exit 2 before any
model request when one fails, and leaves nothing that blocks the next start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.milestone.check_programs import Program, programs
from orchestrator.store.state import list_runs
from orchestrator.testing.fake_codex import read_state
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    implement,
    run_cli,
    write_plan,
    write_scenario,
)

ITEMS = [
    "git",
    "repository",
    "git identity",
    "work tree",
    "codex",
    "codex config",
    "plan",
    "check programs",
]


def _requests(scenario: Path) -> int:
    if not scenario.with_name(scenario.name + ".state.json").exists():
        return 0
    return len(read_state(scenario)["invocations"])


def _doctor_json(
    repo: Path, fake: Path | str, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    code = run_cli(repo, fake, "doctor", PLAN_REL, "--json")
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == (0 if data["ok"] else 2)
    return data


def _item(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The one item of a ``doctor --json`` answer called ``name``."""
    (item,) = [i for i in data["items"] if i["name"] == name]
    assert isinstance(item, dict)
    return item


def _no_identity(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    git(repo, "config", "user.useConfigOnly", "true")  # no guessing from the host name


def test_doctor_lists_every_item_ok(
    git_repo: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt && grep -q x m1.txt"])])
    data = _doctor_json(git_repo, fake_codex, capsys)
    assert [i["name"] for i in data["items"]] == ITEMS
    assert all(i["ok"] for i in data["items"]), data
    assert run_cli(git_repo, fake_codex, "doctor", PLAN_REL) == 0
    out = capsys.readouterr().out
    for name in ITEMS:
        assert f"ok    {name}" in out
    assert "ready to run" in out
    sub = git_repo / "docs"  # from a subdirectory the repository is found
    sub.mkdir()
    assert main(["-C", str(sub), "doctor", PLAN_REL, "--codex-bin", str(fake_codex)]) == 0


def test_no_git_identity_stops_run_before_any_request_and_blocks_nothing(
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    _no_identity(git_repo, monkeypatch)
    data = _doctor_json(git_repo, fake_codex, capsys)
    item = _item(data, "git identity")
    assert not item["ok"]
    assert "git config --global user.email" in item["fix"]

    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 2
    err = capsys.readouterr().err
    assert "git has no author or committer identity" in err
    assert "nothing was sent to the model" in err
    assert _requests(scenario_file) == 0
    assert not list_runs(git_repo)

    git(git_repo, "config", "user.name", "Night Owl")
    git(git_repo, "config", "user.email", "owl@example.invalid")
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 0


@pytest.mark.parametrize(
    ("binary", "said"),
    [("/nonexistent/codex", "cannot start: No such file"), ("/bin/true", "is it codex?")],
)
def test_a_broken_codex_binary_is_exit_2_before_any_request(
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
    capsys: pytest.CaptureFixture[str],
    binary: str,
    said: str,
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert run_cli(git_repo, binary, "run", PLAN_REL) == 2
    assert said in capsys.readouterr().err
    assert not list_runs(git_repo)  # nothing left that blocks the next start
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 0


def test_a_missing_check_program_is_exit_2_before_any_request(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["no-such-tool-xyz --check m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 2
    err = capsys.readouterr().err
    assert "`no-such-tool-xyz` is not on PATH" in err
    assert "milestone 1" in err
    assert _requests(scenario_file) == 0
    assert not list_runs(git_repo)


def test_paths_the_plan_creates_are_accepted_others_are_not(
    git_repo: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`./scripts/check.sh` is fine when the plan's text names scripts/check.sh (the plan
    creates it); `./tools/lint.sh`, named nowhere else and absent, is not."""
    header = "Milestone 1 adds scripts/check.sh, an executable script.\n\n"
    write_plan(
        git_repo,
        [("first", ["./scripts/check.sh"]), ("second", ["./tools/lint.sh --strict"])],
        header=header,
    )
    data = _doctor_json(git_repo, fake_codex, capsys)
    item = _item(data, "check programs")
    assert not item["ok"]
    assert "`./tools/lint.sh` does not exist" in item["detail"]
    assert "check.sh" not in item["detail"]


def test_python_dash_m_needs_an_importable_module(
    git_repo: Path, fake_codex: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["python3 -m json.tool --help", "python3 -m no_such_mod_q"])])
    data = _doctor_json(git_repo, fake_codex, capsys)
    item = _item(data, "check programs")
    assert not item["ok"]
    assert "cannot import `no_such_mod_q`" in item["detail"]
    assert "json" not in item["detail"]


def test_provider_key_missing_from_the_environment(
    git_repo: Path,
    fake_codex: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model_provider = "corp"\n[model_providers.corp]\nname = "corp"\n'
        'base_url = "http://127.0.0.1:9/v1"\nenv_key = "CORP_KEY_FOR_TEST"\n'
    )
    monkeypatch.setenv("CODEX_HOME", str(home))
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    data = _doctor_json(git_repo, fake_codex, capsys)
    item = _item(data, "codex config")
    assert not item["ok"]
    assert "$CORP_KEY_FOR_TEST" in item["detail"]
    monkeypatch.setenv("CORP_KEY_FOR_TEST", "k")
    assert _doctor_json(git_repo, fake_codex, capsys)["ok"]
    # a profile codex would silently ignore is refused
    monkeypatch.setenv("ORCH_CODEX__PROFILE", "night")
    data = _doctor_json(git_repo, fake_codex, capsys)
    item = _item(data, "codex config")
    assert "night.config.toml" in item["detail"]


def test_not_logged_in(
    git_repo: Path,
    fake_codex: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CODEX_API_KEY")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "empty-home"))
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    data = _doctor_json(git_repo, fake_codex, capsys)
    item = _item(data, "codex config")
    assert not item["ok"]
    assert "codex login" in item["fix"]


def test_programs_of_a_check_line() -> None:
    line = "FOO=1 env -u X timeout 30 pytest -q && cd sub && ./run.sh | tee log; python3 -m mypkg"
    assert programs(line) == [
        Program("pytest"),
        Program("./run.sh", after_cd=True),
        Program("tee", after_cd=True),
        Program("python3", module="mypkg", after_cd=True),
    ]
    assert programs("test -f x && [ -d y ] && echo $HOME") == []


@pytest.mark.parametrize(
    "name", ["index.lock", "HEAD.lock", "refs/heads/main.lock", "packed-refs.lock"]
)
def test_a_stale_git_lock_is_reported_before_any_request(
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    """A git command killed mid-commit leaves its lock file (the index's, HEAD's, a
    ref's): every later commit would fail after the milestone's tokens were spent."""
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    (git_repo / ".git" / name).write_text("")
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 2
    assert f"{name} exists" in capsys.readouterr().err
    assert _requests(scenario_file) == 0
    (git_repo / ".git" / name).unlink()
    assert run_cli(git_repo, fake_codex, "run", PLAN_REL) == 0


def test_an_answer_comes_from_the_flag_or_a_file(tmp_path: Path) -> None:
    from orchestrator.errors import UsageError
    from orchestrator.run.answer import read_answer

    assert read_answer(None, None) is None
    assert read_answer("  use UTC \n", None) == "use UTC"
    file = tmp_path / "answer.txt"
    file.write_text("Keep exit code 0.\nIt is documented.\n")
    assert read_answer(None, file) == "Keep exit code 0.\nIt is documented."
    for text, path in (("x", file), ("  ", None), (None, tmp_path / "missing.txt")):
        with pytest.raises(UsageError):
            read_answer(text, path)


def test_an_unreadable_answer_file_names_the_fix(tmp_path: Path) -> None:
    from orchestrator.errors import UsageError
    from orchestrator.run.answer import read_answer

    latin = tmp_path / "answer.txt"
    latin.write_bytes(b"caf\xe9\n")
    for file, said in ((tmp_path / "missing.txt", "No such file or directory; name a"),
                       (latin, "is not UTF-8 text; re-save it")):  # fmt: skip
        with pytest.raises(UsageError) as info:
            read_answer(None, file)
        assert said in info.value.message
        assert "--answer" in info.value.message
        assert "Errno" not in info.value.message


def test_doctor_outside_a_repository_names_the_directory_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty `.git` directory above (not a repository) must not be named instead.
    (tmp_path / ".git").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    assert main(["-C", str(project), "doctor"]) == 2
    out = capsys.readouterr().out
    assert f"{project.resolve()} is not inside a git work tree" in out
