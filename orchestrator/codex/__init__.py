"""`codex exec`: argv, JSONL event models, the supervised process, retries."""

from __future__ import annotations
