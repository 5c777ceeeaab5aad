"""Where things are: the project-local codex install and the package's data files."""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
LOCAL_CODEX = PROJECT_DIR / ".codex-cli" / "node_modules" / ".bin" / "codex"
SCHEMAS_DIR = PACKAGE_DIR / "milestone" / "schemas"
PROMPTS_DIR = PACKAGE_DIR / "milestone" / "prompts"


def find_codex(configured: str | None = None) -> str | None:
    """The codex executable: configured, else the pinned project-local install, else PATH."""
    if configured:
        return configured
    if LOCAL_CODEX.exists():
        return str(LOCAL_CODEX)
    return shutil.which("codex")
