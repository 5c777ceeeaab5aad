"""Settings that loaded once load again: what an early exit remembers of them.

Loading the settings is a pure function of the settings code, the config file's
bytes, the ``ORCH_*`` setting variables and the flags. When an early exit (see
:mod:`orchestrator.run.early`) has loaded them (pydantic, most of its time), it
keeps a digest of those inputs and the one value it needs, the log format, under
the repository's git directory (never in the work tree, never committed). The
next early exit with the same inputs answers without loading them; any change
to an input (an edited config, another variable or flag, new settings code) is
a new digest, loaded and checked again. Only digests are kept: no value of a
variable or of the file leaves it.

Standard library only, so an early exit can use it before pydantic is imported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.settings.sources import setting_variables
from orchestrator.store.atomic import atomic_write

KNOWN_FILE = Path("orchestrator") / "settings-known"
_KEEP = 16  # digests remembered: a few configs, variables and flag sets in turn
_CODE = Path(__file__).resolve().parent


def digest(config: Path | None, env: Mapping[str, str], flags: Mapping[str, Any]) -> str | None:
    """The digest of everything the settings are made of; None if a file cannot be read."""
    h = hashlib.sha256()
    try:
        for source in sorted(_CODE.glob("*.py")):
            stat = source.stat()
            h.update(f"{source.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        if config is not None:
            h.update(str(config.resolve()).encode("utf-8", "surrogateescape") + b"\0")
            h.update(config.read_bytes())
    except OSError:
        return None
    for name in setting_variables(env):
        h.update(f"\0env\0{name}\0{env[name]}".encode("utf-8", "surrogateescape"))
    for key in sorted(flags):
        h.update(f"\0flag\0{key}\0{flags[key]!r}".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _lines(git_dir: Path) -> list[str]:
    try:
        return (git_dir / KNOWN_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def recall(git_dir: Path, key: str) -> str | None:
    """The log format remembered for ``key``, or None when these inputs never loaded."""
    for line in _lines(git_dir):
        known, _, log_format = line.partition(" ")
        if known == key and log_format:
            return log_format
    return None


def remember(git_dir: Path, key: str, log_format: str) -> None:
    """Keep ``key`` (settings that loaded) with its log format; best effort."""
    kept = [line for line in _lines(git_dir) if not line.startswith(f"{key} ")]
    lines = [*kept[-(_KEEP - 1) :], f"{key} {log_format}"]
    try:
        (git_dir / KNOWN_FILE).parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(git_dir / KNOWN_FILE, ("\n".join(lines) + "\n").encode("utf-8"))
    except OSError:
        return  # a read-only git directory: the next early exit loads them again
