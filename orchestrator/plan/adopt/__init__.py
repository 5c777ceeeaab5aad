"""`orchestrator adopt`: derive a plan's checks from its own text, safely."""

from __future__ import annotations
