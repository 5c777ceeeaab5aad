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

import threading
from pathlib import Path

from orchestrator.store.state import RunState, encode_state, write_state


class StateWriter:
    """The saves of one state file, written one after another off the caller's thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(self, state: RunState) -> bytes:
        """Start saving ``state`` (after the save before it is on disk); the bytes."""
        with self._lock:
            self._join()
            data = encode_state(state)
            # not a daemon: the interpreter finishes the write before it exits
            self._thread = threading.Thread(
                target=self._write, args=(data,), name="state-save", daemon=False
            )
            self._thread.start()
            return data

    def _write(self, data: bytes) -> None:
        try:
            write_state(self.path, data)
        except BaseException as exc:  # raised to whoever waits next
            self._error = exc

    def wait(self) -> None:
        """Return once the last save is on disk; raise what it failed with, if it did."""
        with self._lock:
            self._join()

    def _join(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error
