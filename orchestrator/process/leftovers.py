"""Codex processes a killed run left behind, found and stopped by the next run.

A run killed with SIGKILL cannot stop its codex child, which lives in its own
session and may go on working in the tree. Every codex step therefore carries
``ORCH_CODEX_OF=<repository root>`` in its environment (inherited by what codex
starts). Holding the repository lock proves that the run which started them is
dead, so the next run or resume stops every such process before it begins.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import structlog

log = structlog.get_logger()

MARKER = "ORCH_CODEX_OF"


def marker_env(repo_root: Path) -> dict[str, str]:
    """The environment entry every codex step of ``repo_root`` carries."""
    return {MARKER: str(repo_root)}


def _ours() -> set[int]:
    me = psutil.Process()
    return {me.pid, *(p.pid for p in me.parents())}


def find_leftovers(repo_root: Path) -> list[psutil.Process]:
    """Live processes (not us, not our ancestors) marked as codex steps of ``repo_root``."""
    value = str(repo_root)
    skip = _ours()
    found = []
    for proc in psutil.process_iter():
        if proc.pid in skip:
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(MARKER) == value:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def reap_leftovers(repo_root: Path, timeout: float = 3.0) -> list[int]:
    """SIGKILL leftover codex processes of ``repo_root`` and their descendants; their pids."""
    procs = find_leftovers(repo_root)
    if not procs:
        return []
    every: dict[int, psutil.Process] = {}
    for proc in procs:
        every[proc.pid] = proc
        try:
            every.update({c.pid: c for c in proc.children(recursive=True)})
        except psutil.Error:
            continue
    every.pop(os.getpid(), None)
    for proc in every.values():
        try:
            proc.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(list(every.values()), timeout=timeout)
    pids = sorted(every)
    log.warning("leftover_codex_stopped", pids=pids)
    return pids
