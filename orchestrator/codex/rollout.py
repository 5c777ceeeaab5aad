"""The session (rollout) file codex writes for a thread, read as it grows.

codex records every step of a thread in
``<CODEX_HOME>/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl``, including
what its ``--json`` stdout never shows: each ``write_stdin`` poll of a command
still running, each tool output, each token count. New entries there mean codex
is working even while stdout is silent. ``CODEX_HOME`` is found as codex finds
it: the environment variable, else ``~/.codex`` (a profile cannot move it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

POLL_TOOL = "write_stdin"
SEARCH_EVERY = 10.0  # seconds before the second full search of the sessions tree
SEARCH_GAP_MAX = 300.0  # the gap doubles up to this (e.g. --ephemeral writes no file)
READ_CAP = 4 * 1024 * 1024  # bytes read per look; the rest waits for the next one


def codex_home(env: Mapping[str, str]) -> Path:
    """Where codex keeps its sessions for a child started with ``env``."""
    configured = env.get("CODEX_HOME")
    if configured:
        return Path(configured).expanduser()
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / ".codex"


@dataclass(frozen=True)
class RolloutNews:
    """What was appended since the last look."""

    entries: int = 0
    polls: int = 0


class RolloutFile:
    """Finds a thread's rollout file and reports the entries appended to it."""

    def __init__(self, home: Path, thread_id: str) -> None:
        self.sessions = home / "sessions"
        self.thread_id = thread_id
        self.path: Path | None = None
        self._offset = 0
        self._pending = b""
        self._searched_at: float | None = None
        self._search_gap = SEARCH_EVERY

    def _find(self) -> Path | None:
        pattern = f"rollout-*-{self.thread_id}.jsonl"
        days: list[date] = []
        for center in (thread_day(self.thread_id), date.today()):
            if center is not None:
                days += [center, center - timedelta(days=1), center + timedelta(days=1)]
        for day in dict.fromkeys(days):
            folder = self.sessions / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
            found = sorted(folder.glob(pattern))
            if found:
                return found[-1]
        now = time.monotonic()
        if self._searched_at is not None:
            if now - self._searched_at < self._search_gap:
                return None
            self._search_gap = min(self._search_gap * 2, SEARCH_GAP_MAX)
        self._searched_at = now
        found = list(self.sessions.glob(f"*/*/*/{pattern}"))
        return max(found, key=_mtime) if found else None

    def look(self) -> RolloutNews:
        """The entries appended since the last look (none until the file exists)."""
        if self.path is None:
            self.path = self._find()
            if self.path is None:
                return RolloutNews()
            self._offset = _size(self.path)
            return RolloutNews()
        size = _size(self.path)
        if size < self._offset:  # replaced or truncated: start over
            self._offset, self._pending = 0, b""
        if size == self._offset:
            return RolloutNews()
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read(min(size - self._offset, READ_CAP))
        except OSError:
            return RolloutNews()
        self._offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        if len(self._pending) > READ_CAP:
            self._pending = b""
        complete = [line for line in lines if line.strip()]
        polls = sum(1 for line in complete if _is_poll(line))
        return RolloutNews(entries=len(complete) or 1, polls=polls)


def thread_day(thread_id: str) -> date | None:
    """The day a thread began: codex's thread ids are UUIDv7, led by unix milliseconds.

    A resumed thread's session file stays in the folder of that day (codex appends to it).
    """
    head = thread_id.replace("-", "")[:12]
    try:
        stamp = datetime.fromtimestamp(int(head, 16) / 1000)
    except (ValueError, OverflowError, OSError):
        return None
    return stamp.date() if 2000 <= stamp.year <= 2200 else None


def _is_poll(line: bytes) -> bool:
    """A ``write_stdin`` call by the model (only lines naming it are parsed)."""
    if POLL_TOOL.encode() not in line:
        return False
    try:
        entry = json.loads(line)
    except ValueError:
        return False
    payload = entry.get("payload") if isinstance(entry, dict) else None
    return (
        isinstance(payload, dict)
        and payload.get("type") == "function_call"
        and payload.get("name") == POLL_TOOL
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
