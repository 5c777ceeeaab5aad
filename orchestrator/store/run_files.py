"""Where a repository's runs keep their files, found without reading them.

Light to import (standard library only): ``orchestrator status`` and the early
exits of ``resume`` (see :mod:`orchestrator.run.early`) ask whether a repository
has any run before loading the state models of :mod:`orchestrator.store.state`.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.paths import RUNS_DIR

STATE_FILE = "state.json"


def run_dir(repo: Path, run_id: str) -> Path:
    return repo / RUNS_DIR / run_id


def state_path(repo: Path, run_id: str) -> Path:
    return run_dir(repo, run_id) / STATE_FILE


def state_files(repo: Path) -> list[Path]:
    """The state file of every run of ``repo``, by run id, newest first (not read)."""
    root = repo / RUNS_DIR
    if not root.is_dir():
        return []
    found = (d / STATE_FILE for d in root.iterdir())
    return sorted((f for f in found if f.is_file()), key=lambda f: f.parent.name, reverse=True)


def same_plan(a: str, b: str) -> bool:
    """Whether two plan paths relative to the repository name the same plan."""
    return os.path.normpath(a) == os.path.normpath(b)
