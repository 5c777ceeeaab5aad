"""A real second process that holds the repository lock (for lock and status tests)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLDER = """
import sys, time
from pathlib import Path
from orchestrator.store.lock import RepoLock
lock = RepoLock(Path(sys.argv[1]), plan=sys.argv[2])
lock.acquire()
if len(sys.argv) > 3:
    lock.set_run(sys.argv[3])
sys.stdout.write("locked\\n")
sys.stdout.flush()
time.sleep(600)
"""


@contextmanager
def lock_holder(
    repo: Path, plan: str, run_id: str | None = None
) -> Iterator[subprocess.Popen[str]]:
    """Start a process that takes the lock; yields once it holds it; kills it on exit."""
    argv = [sys.executable, "-c", _HOLDER, str(repo), plan, *([run_id] if run_id else [])]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "locked\n", f"lock holder failed to start: {line!r}"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
