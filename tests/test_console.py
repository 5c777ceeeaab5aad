from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `true` exits before the orchestrator starts writing: every write hits a closed pipe.
    script = f"{sys.executable} -m orchestrator -C {tmp_path} config | true"
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True, check=False
    )
    assert "internal error" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 141)
