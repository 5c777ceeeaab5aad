"""What a person reads. The only module that writes to the terminal.

Logs for machines go through structlog (see :mod:`orchestrator.ui.logs`); this
module is for messages, summaries and the live status area. A closed pipe
(``orchestrator config | head``) ends the program quietly.

Colour is decided here, once: on when the stream is a terminal, ``NO_COLOR`` is
unset or empty (https://no-color.org) and ``TERM`` is not ``dumb``.
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


_STYLES = {"dim": "2", "bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def colour_enabled(stream: TextIO | None = None) -> bool:
    """Whether to colour what goes to ``stream`` (standard error by default)."""
    target = sys.stderr if stream is None else stream
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return target.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, style: str | None, *, enabled: bool) -> str:
    """``text`` in ``style`` (dim, bold, red, green, yellow, cyan) when colour is enabled."""
    code = _STYLES.get(style or "")
    if not enabled or code is None or not text:
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def out(text: str = "") -> None:
    """Write a line to standard output."""
    _write(sys.stdout, text)


def err(text: str = "") -> None:
    """Write a line to standard error."""
    _write(sys.stderr, text)
