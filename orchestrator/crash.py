"""Crash logs: the traceback of an unexpected error, for a person to read (or report)."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

from orchestrator import __version__
from orchestrator.redact import Redactor


def write_crash_log(exc: BaseException, directory: Path | None = None) -> Path:
    """Write ``exc``'s traceback (redacted) to ``directory/crash.log`` or a temp file."""
    text = f"orchestrator {__version__}\npython {sys.version}\nargv {sys.argv!r}\n\n" + "".join(
        traceback.format_exception(exc)
    )
    text = Redactor.from_env()(text)
    if directory is not None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "crash.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            pass
    fd, name = tempfile.mkstemp(prefix="orchestrator-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return Path(name)
