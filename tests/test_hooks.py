from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog

from orchestrator.run.hooks import BASE_ENV, HookEvent, HookPayload, fire_hook
from orchestrator.settings.model import HookSettings, LogSettings
from orchestrator.ui.logs import close_logging, configure_logging


@pytest.fixture(autouse=True)
def _logs(tmp_path: Path) -> Iterator[Path]:
    configure_logging(LogSettings(quiet=True), tmp_path / "logs", "run-h")
    yield tmp_path / "logs"
    structlog.contextvars.clear_contextvars()
    close_logging()


def _events(tmp_path: Path, name: str) -> list[dict[str, Any]]:
    lines = (tmp_path / "logs" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == name]


def _fire(event: HookEvent, payload: dict[str, Any], settings: HookSettings, run_dir: Path) -> None:
    anyio.run(fire_hook, event, HookPayload(**payload), settings, run_dir)


def test_payload_file_and_environment(git_repo: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    seen = tmp_path / "seen.txt"
    command = (
        'printf "%s|%s|%s|%s|%s|%s\\n" "$ORCH_EVENT" "$ORCH_PAYLOAD" "$ORCH_RUN_ID" '
        f'"$ORCH_REPO" "$ORCH_EXIT_CODE" "$PWD" > {seen}'
    )
    payload = {"run_id": "run-h", "repo": str(git_repo), "exit_code": 3, "question": "Which?"}
    _fire("needs_human", payload, HookSettings(needs_human=[command]), run_dir)
    event, payload_path, run_id, repo, exit_code, cwd = seen.read_text().strip().split("|")
    assert (event, run_id, repo, exit_code, cwd) == (
        "needs_human",
        "run-h",
        str(git_repo),
        "3",
        str(git_repo),
    )
    assert Path(payload_path).parent == run_dir / "hooks"
    assert json.loads(Path(payload_path).read_text()) == {"event": "needs_human", **payload}
    assert _events(tmp_path, "hook_finished")[0]["exit_code"] == 0


def test_failing_hook_is_logged_and_the_next_one_runs(tmp_path: Path) -> None:
    marker = tmp_path / "second-ran"
    settings = HookSettings(gave_up=["echo broken >&2; exit 7", f"touch {marker}"])
    _fire("gave_up", {"run_id": "r"}, settings, tmp_path / "run")
    assert marker.exists()
    (failed,) = _events(tmp_path, "hook_failed")
    assert failed["exit_code"] == 7
    assert "broken" in failed["stderr_tail"]
    assert len(_events(tmp_path, "hook_finished")) == 1


def test_hanging_hook_is_bounded_by_the_timeout(tmp_path: Path) -> None:
    settings = HookSettings(run_finished=["sleep 60"], timeout=0.5)
    began = time.monotonic()
    _fire("run_finished", {}, settings, tmp_path / "run")
    assert time.monotonic() - began < 10
    (failed,) = _events(tmp_path, "hook_failed")
    assert failed["ended"] == "timeout"


def test_missing_command_and_env_without_known_fields(tmp_path: Path) -> None:
    seen = tmp_path / "env.txt"
    settings = HookSettings(
        milestone_passed=["no-such-command-xyz", f'echo "${{ORCH_EXIT_CODE-unset}}" > {seen}']
    )
    _fire("milestone_passed", {"milestone": "M1"}, settings, tmp_path / "run")
    assert seen.read_text().strip() == "unset"
    assert _events(tmp_path, "hook_failed")[0]["exit_code"] == 127


def test_payload_secrets_are_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-0123456789abcdef")
    run_dir = tmp_path / "run"
    settings = HookSettings(run_finished=["true"])
    _fire("run_finished", {"reason": "used tok-0123456789abcdef"}, settings, run_dir)
    (payload_file,) = (run_dir / "hooks").glob("*.json")
    assert "tok-0123456789abcdef" not in payload_file.read_text()
    assert json.loads(payload_file.read_text())["reason"] == "used [REDACTED]"


def test_a_payload_field_no_event_sets_is_refused() -> None:
    with pytest.raises(ValueError, match="note"):
        HookPayload(note="typo'd field")  # type: ignore[call-arg]


def test_no_commands_and_unknown_events_do_nothing(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _fire("run_finished", {}, HookSettings(), run_dir)
    _fire("bogus", {}, HookSettings(run_finished=["true"]), run_dir)  # type: ignore[arg-type]
    assert not (run_dir / "hooks").exists()
    assert _events(tmp_path, "hook_unknown_event")


def test_minimal_environment_and_passthrough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-never-in-a-hook")
    monkeypatch.setenv("WEBHOOK_TOKEN", "wanted")
    seen = tmp_path / "env.txt"
    settings = HookSettings(run_finished=[f"env > {seen}"], env=["WEBHOOK_TOKEN"])
    _fire("run_finished", {"run_id": "r"}, settings, tmp_path / "run")
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines()}
    assert "OPENAI_API_KEY" not in names
    assert "WEBHOOK_TOKEN=wanted" in seen.read_text().splitlines()
    assert {"PATH", "HOME", "ORCH_EVENT", "ORCH_RUN_ID", "ORCH_PAYLOAD"} <= names
    allowed = {*BASE_ENV, "WEBHOOK_TOKEN", "PWD", "SHLVL", "_", "OLDPWD"}
    assert {n for n in names if not n.startswith("ORCH_")} <= allowed
