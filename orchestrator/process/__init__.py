"""process: the one place that opens child processes (see :mod:`.child`)."""

from __future__ import annotations

from typing import Literal

# How a child run ended; light to import, so run state can name it without the process layer.
Ended = Literal["exited", "timeout", "stalled", "cancelled", "not_found", "signalled"]
