"""process: where child processes start: supervised ones in :mod:`.child`, short blocking
probes in :mod:`.probe` (a run's git commands start in :mod:`orchestrator.store.git`)."""

from __future__ import annotations

from typing import Literal

# How a child run ended; light to import, so run state can name it without the process layer.
Ended = Literal["exited", "timeout", "stalled", "cancelled", "not_found", "signalled"]
