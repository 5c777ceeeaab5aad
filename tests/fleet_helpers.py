"""A Temporal development server, fleet workers and bare remotes for the fleet tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest
from temporalio.client import Client

from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer
from tests.conftest import free_port
from tests.supervisor_helpers import git, write_plan

TEMPORAL = Path(sys.executable).parent / "temporal"


async def _healthy(address: str) -> bool:
    try:
        await Client.connect(address)
    except RuntimeError:
        return False
    return True


@pytest.fixture(scope="module")
def temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Temporal development server from the installed package, on a free loopback port."""
    if not TEMPORAL.exists():
        pytest.fail(f"the Temporal CLI is not installed at {TEMPORAL}; run `make install`")
    port = free_port()
    log = (tmp_path_factory.mktemp("temporal") / "server.log").open("wb")
    server = subprocess.Popen(
        [str(TEMPORAL), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
         "--port", str(port), "--ui-port", str(free_port()), "--log-level", "error"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not anyio.run(_healthy, address):
            assert server.poll() is None, "the Temporal dev server exited"
            assert time.monotonic() < deadline, "the Temporal dev server did not come up"
            time.sleep(0.2)
        yield address
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def remote_with_plan(
    root: Path, name: str, milestones: Sequence[tuple[str, Sequence[str]]]
) -> Path:
    """A bare repository holding a plan (what workers clone and push to)."""
    work = root / f"{name}-src"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text(f"# {name}\n", encoding="utf-8")
    write_plan(work, milestones)
    bare = root / f"{name}.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


class Fleet:
    """Workers (subprocesses) sharing one scripted model and one Temporal server."""

    def __init__(self, address: str, root: Path, codex_bin: Path, rules: list[dict[str, Any]]):
        self.address = address
        self.root = root
        self.queue = f"q-{root.name}"
        self.server = ScriptedModelServer(Scenario.model_validate({"rules": rules}))
        self.codex_bin = codex_bin
        self.workers: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Fleet:
        self.server.__enter__()
        self.env = {
            **os.environ,
            **self.server.codex_env(self.root / "codex-home"),
            "RUST_LOG": "off",
            "ORCH_CODEX__BINARY": str(self.codex_bin),
            "ORCH_CODEX__MODEL": "gpt-5.5",
            "ORCH_CODEX__STEP_TIMEOUT": "90",
            "ORCH_CODEX__KILL_GRACE": "3",
        }
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            self.kill(worker)
        self.server.__exit__(None, None, None)

    def worker(self, host: str = "h1") -> subprocess.Popen[bytes]:
        with (self.root / f"worker-{len(self.workers)}.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "orchestrator", "worker", "--temporal", self.address,
                 "--task-queue", self.queue, "--host-id", host, "--workdir",
                 str(self.root / host)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.workers.append(proc)
        return proc

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and everything it started, as a dying host would."""
        if worker.poll() is None:
            tree = [worker.pid]
            with contextlib.suppress(psutil.NoSuchProcess):
                tree += [p.pid for p in psutil.Process(worker.pid).children(recursive=True)]
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", *args], env=self.env, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def submit(self, bare: Path, *extra: str) -> str:
        done = self.cli("submit", "--temporal", self.address, "--repo", str(bare), "--plan",
                        ".agent/plans/feature.md", "--task-queue", self.queue, *extra)  # fmt: skip
        return done.stdout.strip()

    def wait_state(self, wid: str, state: str, timeout: float) -> dict[str, Any]:
        """``fleet status --json``'s row of ``wid`` once it shows ``state``."""
        deadline = time.monotonic() + timeout
        while True:
            rows = json.loads(self.cli("fleet", "status", "--temporal", self.address,
                                       "--json").stdout)  # fmt: skip
            row: dict[str, Any] = next(r for r in rows if r["id"] == wid)
            if row.get("state") == state:
                return row
            assert time.monotonic() < deadline, f"never reached {state}: {row}"
            time.sleep(0.5)

    def result(self, wid: str, timeout: float = 120) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            client = await Client.connect(self.address)
            with anyio.fail_after(timeout):
                value: dict[str, Any] = await client.get_workflow_handle(wid).result()
                return value

        return anyio.run(wait)
