"""Codex processes left by a killed run are found by their marker and stopped."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from orchestrator.process.leftovers import marker_env, reap_leftovers


def test_marked_processes_and_their_children_are_stopped(tmp_path: Path) -> None:
    other = tmp_path / "other"
    env = {**os.environ, **marker_env(tmp_path)}
    orphan = subprocess.Popen(["bash", "-c", "sleep 60 & wait"], env=env, start_new_session=True)
    unrelated = subprocess.Popen(
        ["sleep", "60"], env={**os.environ, **marker_env(other)}, start_new_session=True
    )
    try:
        shell = psutil.Process(orphan.pid)
        wait_for(lambda: bool(shell.children()), "the shell's child")
        child = shell.children()[0].pid
        pids = reap_leftovers(tmp_path)
        assert orphan.pid in pids
        assert child in pids
        orphan.wait(timeout=5)  # returns: it is gone (reaped by the wait in reap_leftovers)
        assert not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie"
        assert unrelated.poll() is None  # another repository's codex is left alone
        assert reap_leftovers(tmp_path) == []
    finally:
        for p in (orphan, unrelated):
            p.kill()
            p.wait()


def test_the_warning_names_what_was_stopped_and_skips_the_dead(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    env = {**os.environ, **marker_env(tmp_path)}
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    # The child blocks on the fifo until the shell has become `sleep`, which never reaps
    # it: it then exits and stays a zombie. (A child that exits at once may be reaped by
    # the shell itself before its exec, and no zombie ever appears.)
    script = f'head -c1 "{fifo}" >/dev/null & exec sleep 61'
    proc = subprocess.Popen(["bash", "-c", script], env=env, start_new_session=True)
    try:
        parent = psutil.Process(proc.pid)
        wait_for(lambda: _name(parent) == "sleep" and len(parent.children()) == 1, "the exec")
        with fifo.open("w") as go:
            go.write("x")
        wait_for(lambda: _statuses(parent) == [psutil.STATUS_ZOMBIE], "the zombie child")
        with capture_logs() as logs:
            pids = reap_leftovers(tmp_path)
        assert pids == [proc.pid]
        (warning,) = [e for e in logs if e["event"] == "leftover_codex_stopped"]
        assert warning["processes"] == [f"{proc.pid} sleep 61"]
        with capture_logs() as logs:
            assert reap_leftovers(tmp_path) == []
        assert logs == []  # nothing stopped, nothing said
    finally:
        proc.kill()
        proc.wait()


def test_a_leftover_whose_pid_psutil_knew_from_an_earlier_process_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pids wrap around (32768 by default): psutil's ``process_iter`` cache may hold an
    instance of an earlier process with the leftover's pid, which reads the new one's
    environment but refuses to kill it. The stale instance is planted in that cache
    (the only way to make a pid come round again within a test)."""
    env = {**os.environ, **marker_env(tmp_path)}
    proc = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    try:
        stale = psutil.Process(proc.pid)
        earlier = stale.create_time() - 5  # "started" 5 s before: another process
        vars(stale).update(_create_time=earlier, _ident=(proc.pid, earlier))
        monkeypatch.setattr(psutil, "_pmap", {**vars(psutil)["_pmap"], proc.pid: stale})
        assert reap_leftovers(tmp_path) == [proc.pid]
        proc.wait(timeout=10)  # returns: it is gone (reaped by the wait in reap_leftovers)
    finally:
        proc.kill()
        proc.wait()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; the bound only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _name(proc: psutil.Process) -> str:
    try:
        return proc.name()
    except psutil.Error:
        return ""


def _statuses(proc: psutil.Process) -> list[str]:
    try:
        return [c.status() for c in proc.children()]
    except psutil.Error:
        return []
