"""What a person reads. The only module that writes to the terminal.

Logs for machines go through structlog (see :mod:`orchestrator.logs`); this
module is for messages, summaries and the live status area.
"""

from __future__ import annotations

import sys


def out(text: str = "") -> None:
    """Write a line to standard output."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def err(text: str = "") -> None:
    """Write a line to standard error."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
