"""The preflight's `codex --version` probe, started ahead (run/head_start.py): asked once,
judged as when asked at the preflight, and never left running when a run ends early."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.run.head_start import HeadStart
from orchestrator.settings.model import CodexSettings
from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    run_cli,
    write_plan,
    write_scenario,
)


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


def _hanging_version(tmp_path: Path, fake: Path) -> tuple[Path, Path]:
    """A codex whose `--version` writes its pid and sleeps; everything else is the fake."""
    mark = tmp_path / "version.pid"
    codex = _script(
        tmp_path / "codex-hangs",
        f'if [ "$1" = --version ]; then echo $$ > "{mark}"; sleep 600; exit 0; fi\n'
        f'exec "{fake}" "$@"\n',
    )
    return codex, mark


def _wait_for(path: Path) -> int:
    deadline = time.monotonic() + 60
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
    return int(path.read_text())


def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _running_from(script: Path) -> list[psutil.Process]:
    """Processes still running the script (its path is in their command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = proc.info["cmdline"] or []
        if str(script) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def test_the_run_asks_codex_its_version_once(
    git_repo: Path, fake_codex: Path, scenario_file: Path, tmp_path: Path
) -> None:
    asked = tmp_path / "version-calls"
    codex = _script(
        tmp_path / "codex-logs",
        f'if [ "$1" = --version ]; then echo asked >> "{asked}"; fi\nexec "{fake_codex}" "$@"\n',
    )
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert run_cli(git_repo, codex, "run", PLAN_REL) == 0
    assert asked.read_text().splitlines() == ["asked"]  # the preflight read the early answer
    assert list_runs(git_repo)[0].status == "passed"


@pytest.mark.parametrize(
    "body",
    [
        'echo "codex-cli 0.1.0"\n',  # too old
        'echo "not codex at all"; exit 0\n',
        'echo "codex-cli 0.169.0"; echo broken >&2; exit 3\n',
    ],
)
def test_a_bad_version_answer_started_ahead_is_reported_as_the_doctor_reports_it(
    git_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: str,
) -> None:
    codex = _script(tmp_path / "codex", body)
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    assert run_cli(git_repo, codex, "doctor", PLAN_REL, "--json") == 2
    (item,) = [i for i in json.loads(capsys.readouterr().out)["items"] if i["name"] == "codex"]
    assert not item["ok"]
    assert run_cli(git_repo, codex, "run", PLAN_REL) == 2
    err = capsys.readouterr().err
    assert f"codex: {item['detail']}; fix: {item['fix']}" in err  # the same words
    assert "nothing was sent to the model" in err
    assert not list_runs(git_repo)


def test_a_version_probe_nobody_read_is_stopped_when_the_run_ends_early(
    git_repo: Path, fake_codex: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan that cannot run ends before the preflight: the probe started ahead (here one
    that would hang for minutes) is stopped and reaped, and the error is the usual one."""
    codex, mark = _hanging_version(tmp_path, fake_codex)
    write_plan(git_repo, [("first", [])])  # no checks: not runnable
    began = time.monotonic()
    assert run_cli(git_repo, codex, "run", PLAN_REL) == 2
    assert "cannot run" in capsys.readouterr().err
    assert time.monotonic() - began < 60
    assert not _running_from(codex)
    if mark.exists() and mark.read_text().strip():
        assert _gone(int(mark.read_text()))


def test_leaving_the_head_start_stops_an_unread_probe(fake_codex: Path, tmp_path: Path) -> None:
    codex, mark = _hanging_version(tmp_path, fake_codex)
    env = dict(os.environ)
    with HeadStart(CodexSettings(binary=str(codex)), env) as ahead:
        pid = _wait_for(mark)  # started at once, without being asked
        assert ahead.codex_version(str(codex), env) is not None
    assert _gone(pid)
    assert not _running_from(codex)


def test_the_early_probe_answers_only_the_same_question(fake_codex: Path) -> None:
    env = dict(os.environ)
    with HeadStart(CodexSettings(binary=str(fake_codex)), env) as ahead:
        assert ahead.codex_version("/usr/bin/other-codex", env) is None
        assert ahead.codex_version(str(fake_codex), {**env, "CODEX_HOME": "/elsewhere"}) is None
        started = ahead.codex_version(str(fake_codex), env)
        assert started is not None
        assert started.result().ok
        assert "codex-cli" in started.result().stdout
