"""The live view pictures in docs/operations.md are what a real tmux pane shows: the capture
script runs the scenario again and compares (digits and widths aside)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e
@pytest.mark.slow
def test_documented_live_view_matches_a_fresh_tmux_capture(codex_bin: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed; install it (apt-get install tmux) to run this test")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "capture_live_view.py"), "--check"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "matches the pane at all four moments" in proc.stdout
    # the Ctrl-C picture: history kept, no stranded box line, milestone not 'running'
    interrupted = proc.stdout.split("--- interrupted:")[1]
    assert interrupted.count("╭─ orchestrator") == 1
    assert "milestone 1 passed" in interrupted
    assert "interrupted (1 att.)" in interrupted
    assert "running" not in interrupted.split("╭─ orchestrator")[1]


def test_the_normalization_ignores_times_ids_and_widths_only() -> None:
    spec = importlib.util.spec_from_file_location(
        "capture", ROOT / "bench" / "capture_live_view.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    normalized = module.normalized
    a = "00:06:59 run 20261201-000659-b860: x\n│ elapsed 9s   │ commit 1717b57a74"
    b = "11:16:09 run 20261202-101010-ffff: x\n│ elapsed 1m02s  │ commit abcdef0123"
    assert normalized(a) == normalized(b)
    assert normalized(a) != normalized(a.replace("run ", "ran "))
