"""The slow probes started ahead (run/head_start.py): the preflight's `codex --version` and
the verifier's sandbox probe are asked once, judged as when asked where they always were,
and never left running (nor their workspace left behind) when a run ends early."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import anyio
import psutil
import pytest

from orchestrator.paths import verify_cache
from orchestrator.run.head_start import HeadStart
from orchestrator.settings.model import CodexSettings, Settings
from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    run_cli,
    write_plan,
    write_scenario,
)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe workspaces are counted in a cache directory of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return path


def _hanging_probes(tmp_path: Path, fake: Path) -> tuple[Path, Path]:
    """A codex whose `--version` and `sandbox` write their pid to ``<mark>.<subcommand>``
    and sleep; `exec` is the fake."""
    mark = tmp_path / "probe.pid"
    codex = _script(
        tmp_path / "codex-hangs",
        'case "$1" in --version|sandbox)\n'
        f'  echo $$ > "{mark}.$1"; sleep 600; exit 0 ;;\nesac\n'
        f'exec "{fake}" "$@"\n',
    )
    return codex, mark


def _probe_workspaces() -> list[Path]:
    return sorted(verify_cache().glob("probe-*"))


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


def test_probes_nobody_read_are_stopped_when_the_run_ends_early(
    git_repo: Path, fake_codex: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan that cannot run ends before the preflight: the probes started ahead (here
    ones that would hang for minutes) are stopped and reaped, the sandbox probe's
    workspace is removed, and the error is the usual one."""
    codex, mark = _hanging_probes(tmp_path, fake_codex)
    before = _probe_workspaces()
    write_plan(git_repo, [("first", [])])  # no checks: not runnable
    began = time.monotonic()
    assert run_cli(git_repo, codex, "run", PLAN_REL) == 2
    assert "cannot run" in capsys.readouterr().err
    assert time.monotonic() - began < 60
    assert not _running_from(codex)
    for written in tmp_path.glob("probe.pid.*"):
        if written.read_text().strip():
            assert _gone(int(written.read_text()))
    assert _probe_workspaces() == before


def test_leaving_the_head_start_stops_unread_probes(fake_codex: Path, tmp_path: Path) -> None:
    codex, mark = _hanging_probes(tmp_path, fake_codex)
    env = dict(os.environ)
    before = _probe_workspaces()
    with HeadStart(Settings(codex=CodexSettings(binary=str(codex))), env) as ahead:
        # both started at once, without being asked
        pids = [_wait_for(Path(f"{mark}.{sub}")) for sub in ("--version", "sandbox")]
        assert ahead.codex_version(str(codex), env) is not None
        assert len(_probe_workspaces()) == len(before) + 1
    assert all(_gone(pid) for pid in pids)
    assert not _running_from(codex)
    assert _probe_workspaces() == before


def test_the_verifier_takes_the_sandbox_answer_asked_ahead(
    git_repo: Path,
    fake_codex: Path,
    codex_bin: Path,
    scenario_file: Path,
    tmp_path: Path,
) -> None:
    """The pinned codex's sandbox works here: the run asks it once, over a workspace of
    its own (gone afterwards), and its checks run sandboxed."""
    calls = tmp_path / "sandbox-calls"
    codex = _script(
        tmp_path / "codex-sandbox",
        f'if [ "$1" = sandbox ]; then echo "$*" >> "{calls}"; exec "{codex_bin}" "$@"; fi\n'
        f'exec "{fake_codex}" "$@"\n',
    )
    before = _probe_workspaces()
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert run_cli(git_repo, codex, "run", PLAN_REL) == 0
    lines = calls.read_text().splitlines()  # the probe's script spans several lines
    probes = [x for x in lines if x.startswith("sandbox ") and "> .orch-sandbox-probe" in x]
    assert len(probes) == 1, probes
    workspace = Path(probes[0].split(" -C ", 1)[1].split()[0])
    assert workspace.parent.name.startswith("probe-")
    assert workspace.parent.parent == verify_cache()
    assert not workspace.exists()
    assert _probe_workspaces() == before
    (state,) = list_runs(git_repo)
    facts = state.milestones[0].verify
    assert state.status == "passed"
    assert facts is not None
    assert facts.sandboxed


def test_a_broken_sandbox_asked_ahead_is_judged_as_the_verifier_judges_it(
    git_repo: Path,
    fake_codex: Path,
    scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """verify.sandbox = "codex" with a sandbox that fails: the run stops with the words
    the verifier's own probe gives for the same binary."""
    from orchestrator.verify.sandbox import probe_sandbox

    body = (
        'if [ "$1" = sandbox ]; then echo "sandbox: no user namespaces" >&2; exit 1; fi\n'
        f'exec "{fake_codex}" "$@"\n'
    )
    ahead_codex = _script(tmp_path / "codex-ahead", body)
    own_codex = _script(tmp_path / "codex-own", body)
    workspace = tmp_path / "ws" / "tree"
    (workspace / ".git").mkdir(parents=True)
    own = anyio.run(probe_sandbox, str(own_codex), workspace)
    assert own is not None
    monkeypatch.setenv("ORCH_VERIFY__SANDBOX", "codex")
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert run_cli(git_repo, ahead_codex, "run", PLAN_REL) != 0
    err = capsys.readouterr().err
    assert f'verify.sandbox = "codex" but {own}'.replace("codex-own", "codex-ahead") in err
