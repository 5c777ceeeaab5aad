"""`service` blocks: declared in the plan, pinned by the run, started around the checks
(a real HTTP server on a free loopback port), stopped with INT, TERM, KILL."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import anyio
import psutil
import pytest

from orchestrator.cli import main
from orchestrator.milestone import services as services_mod
from orchestrator.milestone.services import not_run, services_up
from orchestrator.milestone.validation import run_checks
from orchestrator.plan.document import parse_plan
from orchestrator.plan.lint import lint_plan
from orchestrator.plan.model import Check, Service
from orchestrator.run.pinned import pinned_checks, services_for
from orchestrator.settings.model import CheckSettings, Settings
from orchestrator.store.state import CheckRecord, RunState, list_runs
from tests.conftest import free_port
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    git,
    implement,
    write_plan,
    write_scenario,
)

PY = sys.executable


def plan_text(port: int, ready: str) -> str:
    return f"""# Serve files

## Purpose / Big Picture

The page is served.

## Plan of Work

### Milestone 1: Serve

```sh service
{PY} -u -m http.server {port} \\
    --bind 127.0.0.1
# ready: {ready}
# timeout: 20s
```

```sh validate
{PY} -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}/hello.txt').read().decode())"
# expect: hello from the tree
```
"""


def test_a_service_block_is_parsed_pinned_and_restored(tmp_path: Path) -> None:
    port = free_port()
    plan = parse_plan(plan_text(port, f"port {port}"), tmp_path / "p.md")
    [svc] = plan.milestones[0].services
    assert svc.command == f"{PY} -u -m http.server {port} --bind 127.0.0.1"
    assert (svc.ready, svc.timeout, svc.id) == (f"port {port}", 20.0, "1.service.1")
    pinned = pinned_checks(plan, Settings())
    state = RunState(run_id="r", plan_path="p.md", pinned_checks=pinned)
    [back] = services_for(state, "1")
    assert (back.command, back.ready, back.timeout) == (svc.command, svc.ready, svc.timeout)
    # plans without services pin exactly what they pinned before
    assert not any(k.startswith("service:") for k in pinned_checks(plan.model_copy(
        update={"milestones": [plan.milestones[0].model_copy(update={"services": []})]}
    ), Settings()))  # fmt: skip


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ("python -m http.server 8000\n", "say when the service is ready"),
        ("a\nb\n# ready: port 8000\n", "exactly one command"),
        ("x\n# ready: url http://example.com/\n", "loopback"),
        ("x\n# ready: port 99999\n", "1 to 65535"),
        ("x --host 0.0.0.0\n# ready: port 8000\n", "127.0.0.1"),
        ("x\n# ready: soon\n", "is not `port N`"),
        ("x\n# ready: port 1\n# timeout: later\n", "invalid duration"),
    ],
)
def test_bad_service_blocks_are_errors(tmp_path: Path, block: str, problem: str) -> None:
    plan = tmp_path / "p.md"
    plan.write_text(
        "# P\n\n## Purpose / Big Picture\n\nx\n\n## Plan of Work\n\n### Milestone 1: A\n\n"
        f"```sh service\n{block}```\n\n```sh validate\ntrue\n```\n",
        encoding="utf-8",
    )
    report = lint_plan(plan)
    assert not report.runnable
    assert any(problem in p.message for p in report.problems), report.problems


def _serve_and_check(tmp_path: Path, ready: str, port: int) -> tuple[list[CheckRecord], Service]:
    (tmp_path / "hello.txt").write_text("hello from the tree\n", encoding="utf-8")
    plan = parse_plan(plan_text(port, ready), tmp_path / "p.md")
    milestone = plan.milestones[0]
    logs = tmp_path / "logs"

    async def go() -> list[CheckRecord]:
        async with services_up(
            milestone.services, cwd=tmp_path, shell="bash", log_dir=logs
        ) as down:
            assert down == []
            results = await run_checks(
                milestone.checks, cwd=tmp_path, settings=CheckSettings(), log_dir=logs
            )
            return [CheckRecord.model_validate(r.model_dump()) for r in results]

    return anyio.run(go), milestone.services[0]


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("kind", ["port", "url", "log"])
def test_checks_run_against_a_real_http_server_which_is_stopped_after(
    tmp_path: Path, kind: str
) -> None:
    port = free_port()
    ready = {
        "port": f"port {port}",
        "url": f"url http://127.0.0.1:{port}/hello.txt",
        "log": "log Serving HTTP on",
    }[kind]
    [record], svc = _serve_and_check(tmp_path, ready, port)
    assert record.passed, record.output_tail
    assert _port_closed(port)
    log = (tmp_path / "logs" / f"check-{svc.id}.log").read_text()
    assert "Serving HTTP on 127.0.0.1" in log
    assert "GET /hello.txt" in log  # the server's own output is kept


def test_a_service_that_never_gets_ready_fails_the_round_and_is_killed(tmp_path: Path) -> None:
    port = free_port()
    nap = f"60.{port}"  # a command line no other test's process has (xdist runs them beside)
    svc = Service(id="1.service.1", command=f"echo starting; sleep {nap}", line=1, milestone="1",
                  ready=f"port {port}", timeout=1.0)  # fmt: skip
    check = Check(id="1.1", command="true", line=2, milestone="1")

    async def go() -> list[CheckRecord]:
        async with services_up([svc], cwd=tmp_path, shell="bash", log_dir=tmp_path) as down:
            return not_run([check], down)

    skipped, failure = anyio.run(go)
    assert not skipped.passed
    assert skipped.output_tail.startswith("[not run: service 1.service.1")
    assert failure.check_id == "1.service.1"
    assert "was not ready (port" in failure.output_tail
    assert "starting" in failure.output_tail
    assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", nap]]


def test_a_service_that_exits_early_says_so(tmp_path: Path) -> None:
    svc = Service(id="plan.service.1", command="echo boom; exit 3", line=1, milestone=None,
                  ready="log never", timeout=20.0)  # fmt: skip

    async def go() -> list[CheckRecord]:
        async with services_up([svc], cwd=tmp_path, shell="bash", log_dir=tmp_path) as down:
            return down

    [failure] = anyio.run(go)
    assert "exited (code 3) before it was ready" in failure.output_tail
    assert failure.exit_code == 3


def test_a_service_is_stopped_with_int_then_term_then_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services_mod, "STOP_GRACE", 0.5)
    script = (
        "trap 'echo got INT' INT; trap 'echo got TERM' TERM; echo up; "
        "while true; do sleep 0.05; done"
    )
    svc = Service(id="1.service.1", command=script, line=1, milestone="1", ready="log up",
                  timeout=20.0)  # fmt: skip

    async def go() -> None:
        async with services_up([svc], cwd=tmp_path, shell="bash", log_dir=tmp_path) as down:
            assert down == []

    anyio.run(go)
    log = (tmp_path / "check-1.service.1.log").read_text()
    assert log.index("got INT") < log.index("got TERM"), log


def test_a_run_starts_the_service_for_the_milestone_checks(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    port = free_port()
    service = [
        "```sh service",
        f"{PY} -u -m http.server {port} --bind 127.0.0.1",
        "# ready: log Serving HTTP",
        "```",
    ]
    fetch = f"{PY} -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}/hello.txt').read().decode())\""
    write_plan(git_repo, [("serve", [fetch, "# expect: hello from the tree"])], commit=False)
    plan = git_repo / PLAN_REL
    block = "Do step 1.\n\n" + "\n".join(service) + "\n"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("Do step 1.\n", block), encoding="utf-8"
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "plan")
    write_scenario(
        scenario_file,
        [implement("1", "echo 'hello from the tree' > hello.txt"), approve_all()],
    )
    assert main(["-C", str(git_repo), "run", "--codex-bin", str(fake_codex), PLAN_REL]) == 0
    state = list_runs(git_repo)[0]
    [record] = state.milestones[0].last_checks
    assert record.passed
    assert _port_closed(port)
    logs = list((git_repo / ".agent" / "runs" / state.run_id).rglob("check-1.service.1.log"))
    assert logs
    assert "GET /hello.txt" in logs[0].read_text()
