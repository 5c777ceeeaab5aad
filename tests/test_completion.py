"""`orchestrator completion bash|zsh`: the script, sourced in a real shell, completes
subcommands, options, option values and `runs` actions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_CASES = [
    (["ru"], ["run", "runs"]),
    (["run", "--dr"], ["--dry-run"]),
    (["-C", "/tmp", "status", "--a"], ["--all"]),
    (["status", "-C", "/tmp", "--js"], ["--json"]),
    (["run", "--sandbox", ""], ["read-only", "workspace-write", "danger-full-access"]),
    (["--log-format", "j"], ["json"]),
    (["runs", ""], ["list", "show", "prune"]),
    (["runs", "prune", "--k"], ["--keep"]),
    (["completion", ""], ["bash", "zsh"]),
    (["rehearse", "--kee"], ["--keep"]),
    (["run", "--max-attempts", ""], []),
]


def _script(shell: str, tmp_path: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "completion", shell],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    path = tmp_path / f"completion.{shell}"
    path.write_text(proc.stdout, encoding="utf-8")
    return path


def _calls(words_sep: str) -> str:
    lines = []
    for words, _ in _CASES:
        quoted = " ".join(f"'{w}'" for w in ["orchestrator", *words])
        lines.append(
            f"COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; COMPREPLY=(); _orchestrator; "
            f'echo "${{COMPREPLY[*]}}"{words_sep}'
        )
    return "\n".join(lines)


def test_bash_completion(tmp_path: Path) -> None:
    script = _script("bash", tmp_path)
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", f"source {script}\n{_calls('')}"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    got = [line.split() for line in proc.stdout.splitlines()]
    assert got == [expected for _, expected in _CASES]


def test_zsh_completion_through_bashcompinit(tmp_path: Path) -> None:
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed (apt-get install zsh); bash is tested above")
    script = _script("zsh", tmp_path)
    body = f"source {script}\nemulate -L ksh\n{_calls('')}\necho END\ncomplete -p"
    proc = subprocess.run(
        ["zsh", "-f", "-c", body], capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out, registered = proc.stdout.split("END\n")
    got = out.splitlines()
    assert "complete -o filenames -o bashdefault -F _orchestrator orchestrator" in registered
    # zsh's compgen emulation leaves prefix filtering to the completion system
    for (words, expected), line in zip(_CASES, got, strict=True):
        offered = line.split()
        assert set(expected) <= set(offered), (words, offered)
        if words[-1] == "":
            assert offered == expected, (words, offered)
