"""The run state's seal: an HMAC of ``state.json`` kept under ``.git``.

The state lives in the work tree (``.agent/runs/<id>/state.json``), where the
agent and, today, every check can write. Each save therefore also writes
``<git dir>/orchestrator/seals/<run-id>.json``: the HMAC-SHA256 of the bytes
saved, under a key kept in ``<git dir>/orchestrator/seal.key`` (made on first
use, mode 0600). codex's sandbox cannot write ``.git``, so an edited state no
longer matches its seal, and every load says so instead of trusting it.

The seal is written before the state is replaced and names the new digest and
the one before it, so a kill between the two writes (or a reader racing a
save) still finds a match. A state outside a git repository is not sealed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from orchestrator.paths import git_dir_of
from orchestrator.store.atomic import atomic_write

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
    return None if git_dir is None else git_dir / SEALS_DIR / f"{state_file.parent.name}.json"


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


def _digests(path: Path) -> list[str]:
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
    digests = [_digest(key, data), *_digests(path)[:1]]
    text = json.dumps({"run_id": state_file.parent.name, "hmac": digests})
    atomic_write(path, text.encode("utf-8") + b"\n")


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
