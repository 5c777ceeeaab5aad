"""`# expect:` lines: parsed from validate blocks, pinned with the command, enforced in run."""

from __future__ import annotations

from pathlib import Path

import anyio

from orchestrator.milestone.expectations import describe, full_output, unmet
from orchestrator.milestone.validation import CheckResult, run_checks
from orchestrator.plan.document import parse_plan
from orchestrator.plan.model import Check
from orchestrator.plan.validate_blocks import pin, unpin
from orchestrator.settings.model import CheckSettings

PLAN = """# P

## Purpose / Big Picture

x

## Plan of Work

### Milestone 1: One

```sh validate
python -m pytest -q
# expect: 4 passed
# a plain comment
echo hi
#   expect-re:   ^hi$
# expect:
```
"""


def test_expect_lines_belong_to_the_command_above() -> None:
    plan = parse_plan(PLAN, Path("p.md"))
    first, second = plan.milestones[0].checks
    assert (first.command, first.expect) == ("python -m pytest -q", ["expect: 4 passed"])
    assert (second.command, second.expect) == ("echo hi", ["expect-re: ^hi$"])


def test_pin_and_unpin_round_trip() -> None:
    pinned = pin("make test", ["expect: ok", "expect-re: a+"])
    assert pinned == "make test\n# expect: ok\n# expect-re: a+"
    assert unpin(pinned) == ("make test", ("expect: ok", "expect-re: a+"))
    assert unpin("make test") == ("make test", ())
    # a pinned string from elsewhere that merely holds a newline stays one command
    assert unpin("echo a\necho b") == ("echo a\necho b", ())


def test_literal_expectations_match_whole_words_and_any_spacing() -> None:
    assert unmet(["expect: 4 passed"], "==== 4   passed in 0.1s ====") == []
    assert unmet(["expect: 4 passed"], "14 passed") != []
    assert unmet(['expect: {"ok": true}'], 'x {"ok": true} y') == []
    assert unmet(["expect-re: ^rows: [1-9]"], "head\nrows: 3\n") == []
    missing = unmet(["expect-re: ^rows: [1-9]", "expect-re: ("], "rows: 0")
    assert len(missing) == 2
    assert "not a valid regular expression" in missing[1]
    assert describe(missing).startswith("[exit 0, but the expected output was not found")


def test_full_output_reads_the_log_without_its_command_line(tmp_path: Path) -> None:
    log = tmp_path / "check.log"
    log.write_text("$ make test\nline one\nline two\n", encoding="utf-8")
    assert full_output(log, "tail") == "line one\nline two\n"
    assert full_output(None, "tail") == "tail"
    assert full_output(tmp_path / "missing.log", "tail") == "tail"


def _run(checks: list[Check], cwd: Path, log_dir: Path | None) -> list[CheckResult]:
    settings = CheckSettings.model_validate({"output_tail_bytes": 400})

    async def go() -> list[CheckResult]:
        return await run_checks(checks, cwd=cwd, settings=settings, log_dir=log_dir)

    return anyio.run(go)


def test_run_fails_a_check_whose_output_misses_the_expectation(tmp_path: Path) -> None:
    noisy = "for i in $(seq 1 400); do echo filler line $i; done"
    checks = [
        Check(
            id="1.1",
            command="echo '3 passed in 0.2s'",
            line=1,
            milestone="1",
            expect=["expect: 3 passed"],
        ),  # fmt: skip
        Check(
            id="1.2", command="echo '13 passed'", line=2, milestone="1", expect=["expect: 3 passed"]
        ),  # fmt: skip
        # the expected text scrolled out of the kept tail: the log still has it
        Check(
            id="1.3",
            command=f"echo 'summary: 7 passed'; {noisy}",
            line=3,
            milestone="1",
            expect=["expect: 7 passed"],
        ),  # fmt: skip
        Check(
            id="1.4",
            command="echo '7 passed'; exit 1",
            line=4,
            milestone="1",
            expect=["expect: 7 passed"],
        ),  # fmt: skip
    ]
    results = _run(checks, tmp_path, tmp_path / "logs")
    assert [r.passed for r in results] == [True, False, True, False]
    assert "expected output was not found" in results[1].output_tail
    assert results[1].exit_code == 0
    assert "expected output" not in results[3].output_tail  # failed on its exit code alone
    # without a log directory only the tail is searched
    [tail_only] = _run([checks[2]], tmp_path, None)
    assert not tail_only.passed
