"""Codex processes left by a killed run are found by their marker and stopped."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psutil

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
        while not shell.children():
            time.sleep(0.01)
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
    # `true` exits at once and stays a zombie: its parent (now `sleep`) never reaps it
    proc = subprocess.Popen(["bash", "-c", "true & exec sleep 61"], env=env, start_new_session=True)
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 10
        while not (
            parent.name() == "sleep"
            and [c.status() for c in parent.children()] == [psutil.STATUS_ZOMBIE]
        ):
            assert time.monotonic() < deadline, "the zombie child never appeared"
            time.sleep(0.01)
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
