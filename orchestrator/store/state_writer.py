"""Saving one run's state off the run's path: each save flushed in the background, in order.

A save seals and writes the state (:func:`~orchestrator.store.state.write_state`:
an fsynced seal record, an fsynced temporary file, a rename, a flushed
directory). Those flushes cost milliseconds, far more on a busy disk, at every
phase change of every milestone. :class:`StateWriter` does them on a thread of
its own while the run goes on to its next process, and waits for them before
anything reads the file back (the guard's check, a hook, the run's end). Saves
reach the disk whole and in the order they were made. A kill while one is in
flight leaves the one before it, as a kill a moment earlier would have: what
followed is work a resume does again (or, for a commit, settles from its record
under ``.git``).

A save does not wait for the one before it: the writer thread writes them one after
the other, and just before it overwrites the file it hands the bytes the file should
still hold (the save before) to the caller's ``before_write`` check, which notices
an edit made since (the run guard's). A failed save fails every save queued after
it; the next :meth:`StateWriter.wait` (or the next save, once the failure is known)
raises it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from orchestrator.store.state import RunState, encode_state, write_state

# Called on the writer thread before a save is written, with the bytes of the last save
# this writer put on disk (None before its first).
BeforeWrite = Callable[[bytes | None], None]


class StateWriter:
    """The saves of one state file, written one after another off the caller's thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # one worker, started once (not a thread a save): saves run in the order made,
        # and the interpreter finishes a queued one before it exits
        self._worker: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None
        self._written: bytes | None = None  # the last save on disk (writer thread)

    def save(self, state: RunState, before_write: BeforeWrite | None = None) -> bytes:
        """Queue ``state`` to be written after the saves before it; the bytes.

        ``before_write`` runs on the writer thread just before the write, with the bytes
        of the last save on disk (what the file holds unless someone else wrote it)."""
        previous = self._pending
        if previous is not None and previous.done():
            self.wait()  # a failure already known is raised now, before more work
            previous = None
        data = encode_state(state)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-save")
        self._pending = self._worker.submit(self._write, data, previous, before_write)
        return data

    def wait(self) -> None:
        """Return once the last save is on disk; raise what it failed with, if it did."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write(
        self, data: bytes, previous: Future[None] | None, before_write: BeforeWrite | None
    ) -> None:
        """On the writer thread, after the saves before (one worker: in order)."""
        if previous is not None:
            previous.result()  # done: its failure fails this save too
        if before_write is not None:
            before_write(self._written)
        write_state(self.path, data)
        self._written = data
