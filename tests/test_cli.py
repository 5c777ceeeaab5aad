from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def _help(*argv: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", *argv, "--help"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_subcommand_has_a_description_and_global_flags_are_listed_once() -> None:
    from orchestrator.cli import _build_parser

    top = _help()
    for flag in ("-C DIR, --repo", "--log-format", "--quiet"):
        assert flag in top
    subparsers = next(a for a in _build_parser()._actions if a.dest == "command")
    assert subparsers.choices
    for name in subparsers.choices:
        text = _help(name)
        usage, _, body = text.partition("\n\n")
        description = body.split("\n\n")[0]
        assert len(description) > 20, f"{name}: no description"
        for flag in ("--log-format", "--quiet", "-C DIR, --repo"):
            assert flag not in usage, (name, flag)
            assert flag not in body.split("Global options")[0], (name, flag)
        if "PLAN" in usage:
            plan_help = re.search(r"^  PLAN\s+(\S.*)$", text, flags=re.MULTILINE)
            assert plan_help, f"{name}: PLAN has no help"


def test_global_flags_still_work_after_the_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import main

    assert main(["status", "-C", str(tmp_path), "-q", "--log-format", "json"]) == 0
    assert f"no runs in {tmp_path.resolve()}" in capsys.readouterr().out


def test_resume_branch_help_says_what_resume_does_with_it() -> None:
    text = " ".join(_help("resume").split())
    assert "created at HEAD" not in text
    assert "--branch NAME the branch the run is on" in text
    assert "run on this branch, created at HEAD" in " ".join(_help("run").split())


def test_deadline_accepts_h_mm_and_rejects_with_a_readable_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import main

    assert main(["config", "-C", str(tmp_path), "--deadline", "6:30", "--json"]) == 0
    assert '"06:30"' in capsys.readouterr().out
    for bad in ("6:3", "24:00", "noon"):
        assert main(["config", "-C", str(tmp_path), "--deadline", bad]) == 2
        err = capsys.readouterr().err
        assert "24-hour local time H:MM or HH:MM" in err, err
        assert "pattern" not in err
        assert "^" not in err


def test_only_the_program_sets_its_collector_and_leaves_its_heap_to_the_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`main()` as the program collects less often and freezes what it allocated at the
    end (its process ends right after: no last collection frees the heap object by
    object); called with arguments, from tests or other code, it leaves the caller's
    garbage collector alone."""
    import gc

    from orchestrator.cli import GC_THRESHOLDS, main

    before = (gc.get_freeze_count(), gc.get_threshold())
    assert main(["status", "-C", str(tmp_path)]) == 0
    assert (gc.get_freeze_count(), gc.get_threshold()) == before
    capsys.readouterr()
    script = (
        "import gc, sys\n"
        "from orchestrator.cli import main\n"
        f"sys.argv = ['orchestrator', 'status', '-C', {str(tmp_path)!r}]\n"
        "code = main()\n"
        "print(code, gc.get_freeze_count() > 0, gc.get_threshold())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"0 True {GC_THRESHOLDS}"
    assert before[1] != GC_THRESHOLDS  # the test process runs with Python's defaults
    assert f"no runs in {tmp_path.resolve()}" in proc.stdout
