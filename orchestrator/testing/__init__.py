"""The scripted model: a Responses API server for the real codex binary, a fake codex
executable for fast tests, and the scenario format both of them play."""

from __future__ import annotations
