"""The process layer: real children misbehaving in every way we know."""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from pathlib import Path

import anyio
import psutil
import pytest

from orchestrator.process.child import ProcessOutcome, ProcessRequest, run_process
from orchestrator.process.exits import use_pidfd_exits


def _alive(pid: int) -> bool:
    """A pid is alive unless gone or a zombie (this container's init does not reap)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return [sys.executable, str(path)]


def _run(request: ProcessRequest, lines: list[str] | None = None) -> ProcessOutcome:
    sink = lines.append if lines is not None else None

    async def main() -> ProcessOutcome:
        return await run_process(request, sink)

    return anyio.run(main)


def test_lines_exit_code_and_tails(tmp_path: Path) -> None:
    argv = ["bash", "-c", "echo one; echo two; echo err >&2; printf tail; exit 3"]
    lines: list[str] = []
    out = _run(ProcessRequest(argv=argv, cwd=tmp_path, transcript=tmp_path / "t.log"), lines)
    assert out.ended == "exited"
    assert out.exit_code == 3
    assert lines == ["one", "two", "tail"]
    assert out.stderr_tail == "err\n"
    assert out.stdout_tail == "one\ntwo\ntail"
    transcript = (tmp_path / "t.log").read_text()
    assert "one\ntwo\n" in transcript
    assert "[stderr] err\n" in transcript


def test_not_found_is_an_outcome(tmp_path: Path) -> None:
    out = _run(ProcessRequest(argv=[str(tmp_path / "nope")], cwd=tmp_path))
    assert out.ended == "not_found"
    assert out.pid is None


def test_stdin_bytes_are_fed_and_closed(tmp_path: Path) -> None:
    lines: list[str] = []
    out = _run(ProcessRequest(argv=["cat"], cwd=tmp_path, stdin=b"hello\nworld\n"), lines)
    assert lines == ["hello", "world"]
    assert out.exit_code == 0


def test_stdin_is_devnull_by_default(tmp_path: Path) -> None:
    out = _run(ProcessRequest(argv=["cat"], cwd=tmp_path, timeout=5))
    assert out.ended == "exited"


def test_env_is_the_full_environment_and_secrets_are_redacted(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "MY_API_KEY": "supersecretvalue123"}
    argv = ["bash", "-c", 'echo "key=$MY_API_KEY home=${HOME:-unset}"']
    lines: list[str] = []
    out = _run(
        ProcessRequest(argv=argv, cwd=tmp_path, env=env, transcript=tmp_path / "t.log"), lines
    )
    assert lines == ["key=supersecretvalue123 home=unset"]
    assert "supersecretvalue123" not in out.stdout_tail
    assert "supersecretvalue123" not in (tmp_path / "t.log").read_text()


def test_huge_line_is_truncated_in_memory_but_kept_in_transcript(tmp_path: Path) -> None:
    argv = _script(
        tmp_path,
        "huge.py",
        "import sys\nsys.stdout.write('x' * 3_000_000 + '\\nafter\\n')\n",
    )
    lines: list[str] = []
    req = ProcessRequest(argv=argv, cwd=tmp_path, max_line_bytes=2048, transcript=tmp_path / "t")
    out = _run(req, lines)
    assert out.exit_code == 0
    assert [len(x) for x in lines] == [2048, 5]
    assert (tmp_path / "t").stat().st_size == 3_000_000 + len("\nafter\n")
    assert len(out.stdout_tail) <= 8192


def test_wall_timeout_kills(tmp_path: Path) -> None:
    out = _run(ProcessRequest(argv=["sleep", "30"], cwd=tmp_path, timeout=0.5, kill_grace=1))
    assert out.ended == "timeout"
    assert out.duration_s < 20  # not the child's 30 s: only a hang fails this


def test_stall_timeout_ends_a_silent_child(tmp_path: Path) -> None:
    argv = ["bash", "-c", "echo hi; sleep 30"]
    out = _run(ProcessRequest(argv=argv, cwd=tmp_path, stall_timeout=0.6, kill_grace=1))
    assert out.ended == "stalled"
    assert out.duration_s < 20  # not the child's 30 s: only a hang fails this


def test_slow_trickle_is_not_stalled(tmp_path: Path) -> None:
    argv = ["bash", "-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.25; done"]
    lines: list[str] = []
    out = _run(ProcessRequest(argv=argv, cwd=tmp_path, stall_timeout=0.8), lines)
    assert out.ended == "exited"
    assert len(lines) == 6


def test_signalled_child(tmp_path: Path) -> None:
    out = _run(ProcessRequest(argv=["bash", "-c", "kill -KILL $$"], cwd=tmp_path))
    assert out.ended == "signalled"
    assert out.signal == 9
    assert out.exit_code is None


IGNORER = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
g = subprocess.Popen(["sleep", "300"], start_new_session=True)
print(g.pid, flush=True)
time.sleep(300)
"""


@pytest.mark.parametrize("interrupt_first", [False, True])
def test_stubborn_child_and_own_session_grandchild_are_killed(
    tmp_path: Path, interrupt_first: bool
) -> None:
    lines: list[str] = []
    req = ProcessRequest(
        argv=_script(tmp_path, "ign.py", IGNORER),
        cwd=tmp_path,
        timeout=3.0,  # long enough for the child to start and ignore signals under load
        kill_grace=0.3,
        interrupt_first=interrupt_first,
    )
    out = _run(req, lines)
    assert out.ended == "timeout"
    # The child ignores SIGINT and SIGTERM, so being gone proves the SIGKILL.
    assert out.signal == 9
    assert out.pid is not None
    assert not _alive(out.pid)
    assert not _alive(int(lines[0]))


@pytest.fixture
def slow_child_watcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine at the OS boundary: asyncio's child-watcher thread gets to its
    blocking ``waitpid`` late, so a child can be dead and not yet reaped when we stop it.
    On 3.11 the kernel offers no pidfd here, so children are waited for by threads (the
    fallback of :mod:`orchestrator.process.exits`)."""
    real = os.waitpid
    use_pidfd_exits()  # decided with the kernel as it is; then its pidfds run out
    if sys.version_info < (3, 12) and hasattr(os, "pidfd_open"):

        def no_pidfd(pid: int, flags: int = 0) -> int:
            raise OSError(errno.ENOSYS, "no pidfd")

        monkeypatch.setattr(os, "pidfd_open", no_pidfd)

    def late_in_threads(pid: int, options: int) -> tuple[int, int]:
        if options == 0 and threading.current_thread() is not threading.main_thread():
            time.sleep(0.5)
        return real(pid, options)

    monkeypatch.setattr(os, "waitpid", late_in_threads)


@pytest.mark.usefixtures("slow_child_watcher")
@pytest.mark.parametrize("interrupt_first", [False, True])
def test_stopping_a_dead_unreaped_child_keeps_its_exit_code(
    tmp_path: Path, interrupt_first: bool
) -> None:
    # The child exits 0 at once; our limit passes before asyncio has reaped it. Stopping
    # it must not reap it behind asyncio's back (which then reports exit 255).
    req = ProcessRequest(
        argv=[sys.executable, "-c", "print('bye')"],
        cwd=tmp_path,
        timeout=0.3,
        kill_grace=0.0,
        interrupt_first=interrupt_first,
    )
    out = _run(req)
    assert out.exit_code == 0
    assert out.signal is None


@pytest.mark.usefixtures("slow_child_watcher")
def test_a_killed_child_reports_sigkill_with_a_slow_watcher(tmp_path: Path) -> None:
    lines: list[str] = []
    req = ProcessRequest(
        argv=_script(tmp_path, "ign.py", IGNORER), cwd=tmp_path, timeout=3.0, kill_grace=0.3
    )
    out = _run(req, lines)
    assert out.ended == "timeout"
    assert out.signal == 9
    assert out.exit_code is None


def test_an_unwritable_transcript_starts_no_child(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("", encoding="utf-8")
    marker = f"transcript-marker-{os.getpid()}-{time.monotonic_ns()}"
    req = ProcessRequest(
        argv=[sys.executable, "-c", "import time; time.sleep(60)", marker],
        cwd=tmp_path,
        transcript=tmp_path / "not-a-dir" / "t.log",
    )
    with pytest.raises(FileExistsError):
        _run(req)
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]
    for proc in left:  # clean up what the defect leaves behind, then fail
        proc.kill()
    assert left == []


def test_cancellation_kills_the_tree_and_propagates(tmp_path: Path) -> None:
    lines: list[str] = []
    req = ProcessRequest(argv=_script(tmp_path, "ign.py", IGNORER), cwd=tmp_path, kill_grace=0.3)
    pids: list[int] = []

    async def main() -> bool:
        with anyio.move_on_after(1.0) as scope:
            await run_process(req, lines.append)
        return scope.cancelled_caught

    t0 = time.monotonic()
    assert anyio.run(main)
    assert time.monotonic() - t0 < 20  # not the child's 30+ s: only a hang fails this
    pids.append(int(lines[0]))
    assert not _alive(pids[0])
    mine = [p for p in psutil.Process().children(recursive=True) if p.status() != "zombie"]
    assert all(p.cmdline()[-1:] != [str(tmp_path / "ign.py")] for p in mine)


def test_background_child_holding_stdout_does_not_hang(tmp_path: Path) -> None:
    lines: list[str] = []
    argv = ["bash", "-c", "(sleep 300 &) ; echo started"]
    t0 = time.monotonic()
    out = _run(ProcessRequest(argv=argv, cwd=tmp_path, timeout=20), lines)
    assert out.ended == "exited"
    assert lines == ["started"]
    assert time.monotonic() - t0 < 20  # not the child's 30+ s: only a hang fails this
