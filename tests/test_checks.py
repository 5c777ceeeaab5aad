from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from orchestrator.milestone.validation import CheckResult, check_argv, log_file, run_checks
from orchestrator.plan.model import Check
from orchestrator.settings.model import CheckSettings
from orchestrator.store.state import CheckRecord, MilestoneState


def _check(n: int, command: str) -> Check:
    return Check(id=f"1.{n}", command=command, line=n, milestone="1")


def _run(
    checks: list[Check], cwd: Path, log_dir: Path | None = None, **kw: object
) -> list[CheckResult]:
    settings = CheckSettings.model_validate(kw)

    async def go() -> list[CheckResult]:
        return await run_checks(checks, cwd=cwd, settings=settings, log_dir=log_dir)

    return anyio.run(go)


def test_pass_fail_and_all_checks_run(tmp_path: Path) -> None:
    (tmp_path / "marker").write_text("here", encoding="utf-8")
    results = _run(
        [
            _check(1, "cat marker"),
            _check(2, "echo to-stderr >&2; exit 3"),
            _check(3, "false | true"),  # pipefail makes this fail
            _check(4, "echo last"),
        ],
        tmp_path,
        log_dir=tmp_path / "logs",
    )
    assert [r.check_id for r in results] == ["1.1", "1.2", "1.3", "1.4"]
    assert [r.passed for r in results] == [True, False, False, True]
    assert results[0].output_tail == "here"
    assert results[1].exit_code == 3
    assert "to-stderr" in results[1].output_tail
    assert results[1].ended == "exited"
    assert results[3].output_tail.strip() == "last"
    log = log_file(tmp_path / "logs", "1.2").read_text(encoding="utf-8")
    assert log.startswith("$ echo to-stderr >&2; exit 3\n")
    assert "to-stderr" in log


def test_timeout_stops_the_check(tmp_path: Path) -> None:
    [result] = _run([_check(1, "echo started; sleep 30")], tmp_path, timeout=0.5)
    assert not result.passed
    assert result.ended == "timeout"
    assert result.duration_s < 10
    assert "started" in result.output_tail
    assert "timed out" in result.output_tail


def test_huge_output_is_bounded_but_logged_in_full(tmp_path: Path) -> None:
    command = "head -c 5000000 /dev/zero | tr '\\0' 'x'; echo; echo THE-END"
    [result] = _run(
        [_check(1, command)], tmp_path, log_dir=tmp_path / "logs", output_tail_bytes=1000
    )
    assert result.passed
    assert len(result.output_tail.encode()) <= 1000 + len("…".encode())
    assert result.output_tail.rstrip().endswith("THE-END")
    assert log_file(tmp_path / "logs", "1.1").stat().st_size > 5_000_000


def test_missing_shell_is_a_failed_check(tmp_path: Path) -> None:
    [result] = _run([_check(1, "true")], tmp_path, shell=str(tmp_path / "no-such-shell"))
    assert not result.passed
    assert result.ended == "not_found"
    assert "could not be started" in result.output_tail


def test_output_is_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_TOKEN", "s3cr3t-value-123")
    [result] = _run([_check(1, "echo token=$MY_API_TOKEN")], tmp_path)
    assert "s3cr3t-value-123" not in result.output_tail
    assert "token=" in result.output_tail


def test_pipefail_only_for_shells_that_have_it() -> None:
    assert check_argv("x", "bash")[:3] == ["bash", "-o", "pipefail"]
    assert check_argv("x", "/bin/sh")[:2] == ["/bin/sh", "-c"]


def test_result_fits_the_state_model(tmp_path: Path) -> None:
    [result] = _run([_check(1, "true")], tmp_path)
    assert isinstance(result, CheckRecord)
    milestone = MilestoneState(id="1", last_checks=[result])
    loaded = MilestoneState.model_validate_json(milestone.model_dump_json())
    assert loaded.model_dump() == milestone.model_dump()
