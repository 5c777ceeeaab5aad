from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from orchestrator.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parent.parent


def test_readme_exit_code_table_matches_errors_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", readme, flags=re.MULTILINE))
    assert {int(k): v for k, v in rows.items()} == {
        int(code): text for code, text in EXIT_CODES.items()
    }


def test_python_dash_m_help_lists_subcommands() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    for command in ("run", "resume", "status", "check", "demo", "model-server", "init", "config"):
        assert command in proc.stdout
