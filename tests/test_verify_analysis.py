"""The deterministic parts of verification: weakening analysis, test counting, verdicts,
environment hooks, hidden-check files, the reviewer's facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import ConfigError
from orchestrator.store.state import CheckRecord, CountedTests, MilestoneState, VerifyFacts
from orchestrator.verify.counting import output_counts, output_reports_failure
from orchestrator.verify.environment import startup_hooks, tampered_hooks
from orchestrator.verify.facts import review_facts
from orchestrator.verify.holdout import load_holdout
from orchestrator.verify.judge import judge
from orchestrator.verify.protect import command_paths
from orchestrator.verify.validator import plan_changes_tests
from orchestrator.verify.weakening import (
    code_findings,
    data_weakening,
    new_file_findings,
    python_weakening,
)

BEFORE = """import pytest

EXPECTED = 5


def helper(x):
    return x * 2


def test_add():
    assert 2 + 3 == EXPECTED


def test_raises():
    with pytest.raises(ValueError):
        int("x")


class TestThing:
    def test_method(self):
        self.assertEqual(1, 1)
"""


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (BEFORE.replace("assert 2 + 3 == EXPECTED", "assert True"), "assertions removed"),
        (BEFORE.replace("def test_raises():", "def _test_raises():"), "test functions removed"),
        (BEFORE.replace("EXPECTED = 5", "EXPECTED = 6"), "module-level values changed"),
        (BEFORE + "\npytestmark = pytest.mark.skip\n", "skip, xfail or deselection added"),
        (BEFORE.replace("def test_add", "@pytest.mark.xfail\ndef test_add"), "skip, xfail"),
        (BEFORE + "\ndef pytest_sessionfinish(session):\n    session.exitstatus = 0\n", "hooks"),
        (BEFORE.replace("self.assertEqual(1, 1)", "pass"), "assertions removed"),
        ("def broken(:\n", "no longer parses"),
    ],
)
def test_weakening_is_found(after: str, expected: str) -> None:
    found = python_weakening("tests/test_x.py", BEFORE, after)
    assert any(expected in f for f in found), found


@pytest.mark.parametrize(
    "after",
    [
        BEFORE + "\n\ndef test_more():\n    assert 1 + 1 == 2\n",  # a new case
        BEFORE.replace("    return x * 2", "    doubled = x + x\n    return doubled"),  # refactor
        BEFORE.replace(
            "def test_add():\n    assert 2 + 3 == EXPECTED",
            "def check():\n    assert 2 + 3 == EXPECTED\n\n\ndef test_add():\n    check()",
        ),  # an assertion moved into a helper of the same file
    ],
)
def test_legitimate_changes_are_no_weakening(after: str) -> None:
    assert python_weakening("tests/test_x.py", BEFORE, after) == []


def test_new_files_that_change_how_tests_run() -> None:
    texts = {
        "tests/test_aaa.py": "import calc\n\ncalc.add = lambda a, b: a + b\n",
        "tests/test_bbb.py": "try:\n    import _pytest.reports\nexcept ImportError:\n    pass\n",
        "tests/test_ok.py": (
            "import pytest\n\nEXPECTED = 2\n\n\ndef test_ok():\n    assert 1 + 1 == 2\n"
        ),
        "tests/sub/conftest.py": "def pytest_runtest_makereport(item, call):\n    pass\n",
        "tests/test_new.py": "def test_new():\n    assert 1\n",
        "tests/fixtures_conftest.py": "x = 1\n",
    }
    found = new_file_findings(
        ["pytest.py", "pytest.ini", "evil.pth", "src/unittest/__init__.py", "calc2.py", *texts],
        texts,
    )
    assert "new pytest.py shadows the module `pytest`" in found
    assert "new test configuration file pytest.ini" in found
    assert "new start-up file evil.pth" in found
    assert "new src/unittest/__init__.py shadows the module `unittest`" in found
    assert any("tests/sub/conftest.py defines pytest hooks" in f for f in found)
    assert any("tests/test_aaa.py changes other modules when imported" in f for f in found)
    assert any("tests/test_bbb.py changes other modules when imported" in f for f in found)
    assert not any("test_ok.py" in f for f in found)
    assert not any("calc2.py" in f or "test_new.py" in f for f in found)


@pytest.mark.parametrize(
    ("output", "source", "failed", "passed"),
    [
        ("...\nRan 3 tests in 0.001s\n\nFAILED (failures=1, errors=1)\n", "unittest", 1, 1),
        ("Ran 4 tests in 0.1s\n\nOK (skipped=1)\n", "unittest", 0, 3),
        ("test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured\n", "cargo", 1, 2),
        ("Tests:       1 failed, 4 passed, 5 total\n", "jest", 1, 4),
        ("--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\nFAIL\tpkg\t0.1s\n", "go", 2, 1),
    ],
)
def test_output_counts(output: str, source: str, failed: int, passed: int) -> None:
    counts = output_counts(output)
    assert counts is not None
    assert (counts.source, counts.failed, counts.passed) == (source, failed, passed)


def test_output_reporting_failures_is_recognised() -> None:
    assert output_reports_failure("===== 5 failed, 1 passed in 0.31s =====\n")
    assert output_reports_failure("===== 6 passed in 0.31s =====\n") is None
    assert output_reports_failure("all good\n") is None


def _record(exit_code: int = 0, output: str = "", command: str = "make check") -> CheckRecord:
    return CheckRecord(
        check_id="1.1", command=command, exit_code=exit_code, passed=exit_code == 0,
        ended="exited", duration_s=0.1, output_tail=output,
    )  # fmt: skip


def _pytest(**counts: int) -> CountedTests:
    return CountedTests(source="pytest", **counts)


def _base(**counts: int) -> CheckRecord:
    return _record(1).model_copy(update={"tests": _pytest(**counts)})


@pytest.mark.parametrize(
    ("record", "counts", "baseline", "may_change", "note"),
    [
        (_record(0, "== 5 failed in 1s =="), None, None, False, "output reports failures"),
        (_record(0), _pytest(passed=2, failed=1), None, False, "1 failed"),
        (_record(0), _pytest(deselected=3), None, False, "ran no test"),
        (_record(0, command="python -m pytest -q"), None, None, False, "no session"),
        (_record(0), None, _base(passed=1), False, "no session"),
        (_record(0), _pytest(passed=1), _base(passed=2), False, "fewer tests passed"),
        (_record(0), _pytest(passed=3, skipped=1), _base(passed=2), False, "more tests skipped"),
        (_record(0), _pytest(passed=3, xfailed=1), _base(passed=2), False, "xfailed"),
        (_record(0), _pytest(passed=3, deselected=1), _base(passed=2), False, "deselected"),
    ],
)
def test_a_check_fails_on_what_its_tests_did(
    record: CheckRecord,
    counts: CountedTests | None,
    baseline: CheckRecord | None,
    may_change: bool,
    note: str,
) -> None:
    judged = judge(record, counts, baseline=baseline, tests_may_change=may_change)
    assert not judged.passed
    assert any(note in n for n in judged.notes), judged.notes


def test_a_check_passes_when_its_tests_did() -> None:
    judged = judge(
        _record(0), _pytest(passed=3), baseline=_base(passed=2, failed=1), tests_may_change=False
    )
    assert judged.passed
    assert judged.notes == []
    fewer = judge(_record(0), _pytest(passed=1), baseline=_base(passed=2), tests_may_change=True)
    assert fewer.passed  # the plan says the milestone changes its tests


def test_environment_hooks_that_run_code_are_found(tmp_path: Path) -> None:
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "existing.pth").write_text("import os\n")
    before = startup_hooks(tmp_path, [".venv"])
    assert tampered_hooks(tmp_path, before, [".venv"]) == []
    (site / "outside.pth").write_text("/usr/share/somewhere\n")  # a plain path elsewhere
    (site / "inside.pth").write_text(f"{tmp_path}/local\n")  # a path into the repository
    (site / "evil.pth").write_text("import atexit\n")
    (site / "sitecustomize.py").write_text("x = 1\n")
    found = tampered_hooks(tmp_path, before, [".venv"])
    rel = ".venv/lib/python3.11/site-packages/"
    assert found == [rel + n for n in ("evil.pth", "inside.pth", "sitecustomize.py")]


def test_hidden_checks_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    good = tmp_path / "holdout.toml"
    good.write_text(
        '[[check]]\ncommand = "true"\n\n[[check]]\ncommand = "false"\nmilestone = "2"\n'
    )
    checks = load_holdout(str(good), repo)
    assert [(c.command, c.milestone) for c in checks] == [("true", None), ("false", "2")]
    inside = repo / "holdout.toml"
    inside.write_text(good.read_text())
    with pytest.raises(ConfigError, match="inside the repository"):
        load_holdout(str(inside), repo)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[check]]\ncmd = "true"\n')
    with pytest.raises(ConfigError, match=r"check\.0\.cmd"):
        load_holdout(str(bad), repo)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_holdout(str(tmp_path / "missing.toml"), repo)


def test_check_scripts_named_by_check_commands_are_found() -> None:
    files = {"scripts/check.py", "run-tests.sh", "src/app.py", "app.py"}
    commands = ["python scripts/check.py && ./run-tests.sh", "python ./src/app.py --x", "app.py"]
    # the code under test stays free: only check scripts are protected
    assert command_paths(commands, files) == {"scripts/check.py", "run-tests.sh"}


def test_renamed_variables_keep_their_assertions_but_a_self_comparison_does_not() -> None:
    before = "def test_a():\n    result = f()\n    expected = 3\n    assert result == expected\n"
    renamed = before.replace("result", "value").replace("expected", "wanted")
    assert python_weakening("tests/test_a.py", before, renamed) == []
    self_compared = before.replace("assert result == expected", "assert result == result")
    assert python_weakening("tests/test_a.py", before, self_compared)


@pytest.mark.parametrize(
    ("path", "after", "weak"),
    [
        ("tests/data/cases.txt", "1 2 3\n4 5 9\n7 8 15\n", False),  # a case added
        ("tests/data/cases.txt", "1 2 3\n4 5 10\n", True),  # an expected value changed
        ("tests/data/cases.txt", "1 2 3\n", True),  # a case removed
        ("Makefile", "1 2 3\n4 5 9\n\nmore:\n\ttrue\n", True),  # configuration: any change
    ],
)
def test_fixtures_may_only_gain_cases(path: str, after: str, weak: bool) -> None:
    assert bool(data_weakening(path, "1 2 3\n4 5 9\n", after)) is weak


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Do it.\n\nChanges tests: yes\n", True),
        ("- **Changes tests**: yes, the old ones were wrong\n", True),
        ("<!-- verify: tests-change -->\n", True),
        ("This milestone changes tests a lot.\n", False),
        ("Changes tests: no\n", False),
    ],
)
def test_the_plan_says_a_milestone_changes_tests(body: str, expected: bool) -> None:
    assert plan_changes_tests(body) is expected


def test_the_reviewer_sees_the_facts() -> None:
    ms = MilestoneState(id="1")
    ms.verify = VerifyFacts(
        baseline=[_record(0).model_copy(update={"tests": _pytest(passed=2)})],
        changed_protected=["tests/test_x.py"],
        weakening=["tests/test_x.py: assertions removed or changed: `assert x`"],
        tests_may_change=True,
        sandboxed=True,
    )
    diff = (
        "diff --git a/calc.py b/calc.py\n+code\n"
        "diff --git a/tests/test_x.py b/tests/test_x.py\n-    assert x\n"
    )
    text = review_facts(ms, diff)
    assert "special-case the inputs" in text
    assert "every check already passed at the checkpoint" in text
    assert "-    assert x" in text
    assert "+code" not in text  # only the protected part of the diff
    assert '"weakening_approved": true' in text
    assert "under codex's sandbox" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("import _pytest.reports as r\n", "imports pytest"),
        ("from pytest import approx\n", "imports pytest"),
        ("import os\nTESTING = os.environ.get('PYTEST_CURRENT_TEST')\n", "test run's environment"),
    ],
)
def test_code_under_test_that_reaches_into_the_test_run_is_found(text: str, expected: str) -> None:
    found = code_findings("calc.py", text)
    assert any(expected in f for f in found), found


def test_ordinary_code_is_no_finding() -> None:
    assert code_findings("calc.py", "import os\n\ndef add(a, b):\n    return a + b\n") == []
