"""Saving one run's state off the run's path: each save flushed in the background, in order.

A save seals and writes the state (:func:`~orchestrator.store.state.write_state`:
an fsynced seal record, an fsynced temporary file, a rename, a flushed
directory). Those flushes cost milliseconds, far more on a busy disk, at every
phase change of every milestone. :class:`StateWriter` does them on a thread of
its own while the run goes on to its next process, and waits for them before
anything reads the file back (the guard's check, the next save, a hook, the
run's end). Saves reach the disk whole and in the order they were made. A kill
while one is in flight leaves the one before it, as a kill a moment earlier
would have: what followed is work a resume does again (or, for a commit,
settles from its record under ``.git``).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from orchestrator.store.state import RunState, encode_state, write_state


class StateWriter:
    """The saves of one state file, written one after another off the caller's thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # one worker, started once (not a thread a save): saves run in the order made,
        # and the interpreter finishes a queued one before it exits
        self._worker: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def save(self, state: RunState) -> bytes:
        """Start saving ``state`` (after the save before it is on disk); the bytes."""
        self.wait()
        data = encode_state(state)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-save")
        self._pending = self._worker.submit(write_state, self.path, data)
        return data

    def wait(self) -> None:
        """Return once the last save is on disk; raise what it failed with, if it did."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()
