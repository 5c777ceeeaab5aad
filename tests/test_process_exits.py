"""Children's exits reach the event loop through pidfds where the kernel has them, with a
thread a child only where it does not."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import pytest

from orchestrator.process.child import ProcessRequest, run_process
from orchestrator.process.exits import PidfdExits

needs_pidfd = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"),
    reason="pidfds are a Linux (5.3+) facility",
)


def _reaped(watcher: PidfdExits, argv: list[str]) -> tuple[int, int, list[str]]:
    """Start ``argv``, let ``watcher`` report its exit; (pid, code, the names of the
    threads started while it ran). Threads of earlier tests in this worker may end
    meanwhile, so the new ones are named, not counted."""

    async def main() -> tuple[int, int, list[str]]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[int, int]] = loop.create_future()
        before = set(threading.enumerate())
        child = subprocess.Popen(argv)  # noqa: ASYNC220 - the watcher under test reaps it
        watcher.add_child_handler(child.pid, lambda pid, code: done.set_result((pid, code)))
        started = [t.name for t in threading.enumerate() if t not in before]
        with anyio.fail_after(30):
            pid, code = await done
        assert pid == child.pid
        child.returncode = code  # reaped by the watcher: Popen must not wait for it again
        return pid, code, started

    return anyio.run(main)


def _waiters(names: list[str]) -> list[str]:
    """asyncio's ThreadedChildWatcher names its thread a child ``asyncio-waitpid-N``."""
    return [n for n in names if n.startswith("asyncio-waitpid-")]


@needs_pidfd
def test_a_pidfd_reports_the_exit_code_without_a_thread() -> None:
    _, code, started = _reaped(PidfdExits(), ["sh", "-c", "sleep 0.3; exit 7"])
    assert code == 7
    assert _waiters(started) == []


@needs_pidfd
def test_a_signalled_child_reports_the_negative_signal() -> None:
    _, code, _ = _reaped(PidfdExits(), ["sh", "-c", "kill -9 $$"])
    assert code == -9


def test_without_a_pidfd_a_thread_waits_for_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pidfd(pid: int, flags: int = 0) -> int:
        raise OSError(errno.EMFILE, "too many open files")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd, raising=False)
    _, code, started = _reaped(PidfdExits(), ["sh", "-c", "sleep 0.3; exit 5"])
    assert code == 5
    assert len(_waiters(started)) == 1


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ watches through pidfds itself")
@needs_pidfd
def test_supervised_children_are_watched_through_pidfds(tmp_path: Path) -> None:
    async def main() -> list[int | None]:
        codes: list[int | None] = []
        for code in (0, 3):
            request = ProcessRequest(argv=["sh", "-c", f"exit {code}"], cwd=tmp_path)
            codes.append((await run_process(request)).exit_code)
        return codes

    assert anyio.run(main) == [0, 3]
    assert isinstance(asyncio.get_event_loop_policy().get_child_watcher(), PidfdExits)
