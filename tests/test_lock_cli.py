"""One run per repository, seen from the command line: exit 75 naming the holder;
`status` answers while the lock is held; the holder stops cleanly on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestrator.store.lock import read_holder
from tests.supervisor_helpers import (
    PLAN_REL,
    rule,
    write_plan,
    write_scenario,
)


def _cli(repo: Path, fake: Path, env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator", "-C", str(repo), *args,
            *(["--codex-bin", str(fake)] if args[0] in ("run", "resume") else [])]  # fmt: skip


def test_second_run_exits_75_naming_the_holder_and_status_still_works(
    git_repo: Path, fake_codex: Path, tmp_path: Path
) -> None:
    write_plan(git_repo, [("hang", ["true"])])
    scenario = write_scenario(tmp_path / "s.json", [rule("hang", fault={"kind": "hang"})])
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}
    first = subprocess.Popen(
        _cli(git_repo, fake_codex, env, "run", PLAN_REL), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while (holder := read_holder(git_repo)) is None:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.05)
        assert holder.pid == first.pid

        second = subprocess.run(
            _cli(git_repo, fake_codex, env, "run", PLAN_REL, "--fresh"),
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert second.returncode == 75
        assert str(first.pid) in second.stderr
        assert PLAN_REL in second.stderr

        status = subprocess.run(
            _cli(git_repo, fake_codex, env, "status", "--json"),
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert status.returncode == 0
        shown = json.loads(status.stdout)
        assert shown["lock"]["pid"] == first.pid
    finally:
        first.send_signal(signal.SIGINT)
        try:
            out, err = first.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(first.pid, signal.SIGKILL)
            raise
    assert first.returncode == 130, err[-2000:]
    assert read_holder(git_repo) is None
