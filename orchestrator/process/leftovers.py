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
    for pid in psutil.pids():
        if pid in skip:
            continue
        try:  # the environment first: most processes end the test there (one read each)
            # A new Process, not process_iter()'s cached one: pids wrap around (32768 by
            # default), and a cached instance of an earlier process with this pid reads
            # the new one's environment but refuses to kill it (pid reused).
            proc = psutil.Process(pid)
            if proc.environ().get(MARKER) == value and proc.status() != psutil.STATUS_ZOMBIE:
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
    stopped: dict[int, str] = {}
    for pid, proc in every.items():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue  # already dead: nothing to stop, nothing to report
            what = _describe(proc)
            proc.kill()
        except psutil.Error:
            continue  # gone since it was found
        stopped[pid] = what
    psutil.wait_procs([every[pid] for pid in stopped], timeout=timeout)
    if stopped:
        log.warning("leftover_codex_stopped", processes=[stopped[p] for p in sorted(stopped)])
    return sorted(stopped)


def _describe(proc: psutil.Process) -> str:
    """``pid command line`` (shortened) of a process, for the log."""
    try:
        command = " ".join(proc.cmdline()) or proc.name()
    except psutil.Error:
        command = "?"
    return f"{proc.pid} {command[:120]}"
