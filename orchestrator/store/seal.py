"""The run state's seal: an HMAC of ``state.json`` kept under ``.git``.

The state lives in the work tree (``.agent/runs/<id>/state.json``), where the
agent and, today, every check can write. Each save therefore also appends to
``<git dir>/orchestrator/seals/<run-id>.hmac`` the HMAC-SHA256 of the bytes
saved, under a key kept in ``<git dir>/orchestrator/seal.key`` (made on first
use, mode 0600). codex's sandbox cannot write ``.git``, so an edited state no
longer matches its seal, and every load says so instead of trusting it.

The seal is written (and flushed to disk) before the state is replaced, and the
state may match the newest digest or the one before it, so a kill between the
two writes (or a reader racing a save) still finds a match. One append and one
``fsync`` a save: no temporary file, no rename, no directory flush but the
first. Each digest starts on a line of its own, so a record cut short by a
crash is one unreadable line, never a valid digest glued to the next. A seal
written before this format (``<run-id>.json``) is still read. A state outside
a git repository is not sealed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from orchestrator.paths import git_dir_of

SEALS_DIR = Path("orchestrator") / "seals"
KEY_FILE = Path("orchestrator") / "seal.key"
_keys: dict[Path, bytes] = {}


def _git_dir(state_file: Path) -> Path | None:
    runs = state_file.parent.parent
    if runs.name != "runs" or runs.parent.name != ".agent":
        return None
    return git_dir_of(runs.parent.parent / ".git")


def seal_path(state_file: Path) -> Path | None:
    """Where the seal of ``state_file`` lives (None: not in a git repository)."""
    git_dir = _git_dir(state_file)
    return None if git_dir is None else git_dir / SEALS_DIR / f"{state_file.parent.name}.hmac"


def _key(git_dir: Path, *, create: bool) -> bytes | None:
    if git_dir in _keys:
        return _keys[git_dir]
    path = git_dir / KEY_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return _key(git_dir, create=False)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
        key = path.read_bytes()
    _keys[git_dir] = key
    return key


def _digest(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


_RECORD = 65  # a newline and 64 hex digits
_HEX = frozenset("0123456789abcdef")


def _digests(path: Path) -> list[str]:
    """The newest two digests of the seal at ``path``, newest first."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 4 * _RECORD))
            tail = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        return _old_digests(path.with_suffix(".json"))
    except OSError:
        return []
    found = [d for d in tail.split("\n")[1:] if len(d) == 64 and set(d) <= _HEX]
    newest = found[:-3:-1]
    if len(newest) < 2:  # sealed by an older version first
        newest += _old_digests(path.with_suffix(".json"))[: 2 - len(newest)]
    return newest


def _old_digests(path: Path) -> list[str]:
    """The digests of a seal in the earlier format: ``{"run_id": ..., "hmac": [...]}``."""
    try:
        found = json.loads(path.read_text(encoding="utf-8")).get("hmac", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [d for d in found if isinstance(d, str)] if isinstance(found, list) else []


def write_seal(state_file: Path, data: bytes) -> None:
    """Seal ``data``, about to become ``state_file``'s content (call before writing it)."""
    git_dir = _git_dir(state_file)
    path = seal_path(state_file)
    if git_dir is None or path is None:
        return
    key = _key(git_dir, create=True)
    assert key is not None
    new = not path.exists()
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"\n{_digest(key, data)}".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:  # the new file's name must reach the disk too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def seal_problem(state_file: Path, data: bytes) -> str | None:
    """None if ``data`` (the content of ``state_file``) matches its seal; else what is wrong."""
    git_dir = _git_dir(state_file)
    path = seal_path(state_file)
    if git_dir is None or path is None:
        return None
    key = _key(git_dir, create=False)
    digests = _digests(path)
    if key is None or not digests:
        return f"it has no seal ({path} is missing), so nothing shows the orchestrator wrote it"
    if not any(hmac.compare_digest(_digest(key, data), d) for d in digests):
        return (
            f"it does not match its seal ({path}): something other than the orchestrator changed it"
        )
    return None
