"""What a person reads. The only module that writes to the terminal.

Logs for machines go through structlog (see :mod:`orchestrator.ui.logs`); this
module is for messages, summaries and the live status area. A closed pipe
(``orchestrator config | head``) ends the program quietly.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text + "\n")
        stream.flush()
    except BrokenPipeError:
        # The reader went away: send the rest to /dev/null so the interpreter's
        # final flush does not fail again, and stop like `head`'s writers do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
        raise SystemExit(141) from None


def out(text: str = "") -> None:
    """Write a line to standard output."""
    _write(sys.stdout, text)


def err(text: str = "") -> None:
    """Write a line to standard error."""
    _write(sys.stderr, text)
