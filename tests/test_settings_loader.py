from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.errors import ConfigError
from orchestrator.settings.durations import format_duration, parse_duration
from orchestrator.settings.loader import effective_values, load_settings, resolve_settings
from orchestrator.settings.model import Settings


def _write_config(repo: Path, text: str) -> Path:
    path = repo / ".agent" / "orchestrator.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source(tmp_path: Path) -> None:
    assert load_settings(repo=tmp_path, env={}) == Settings()


def test_layers_override_in_order(tmp_path: Path) -> None:
    _write_config(tmp_path, "[loop]\nmax_attempts = 5\nreview_gate = false\n")
    env = {"ORCH_LOOP__MAX_ATTEMPTS": "7", "ORCH_CODEX__MODEL": "m-env"}
    loaded = resolve_settings(
        repo=tmp_path, env=env, flags={"codex.model": "m-flag", "run.branch": None}
    )
    s = loaded.settings
    assert (s.loop.max_attempts, s.loop.review_gate, s.codex.model) == (7, False, "m-flag")
    assert loaded.origin("loop.max_attempts") == "environment variable ORCH_LOOP__MAX_ATTEMPTS"
    assert "orchestrator.toml key loop.review_gate (line 3)" in loaded.origin("loop.review_gate")
    assert loaded.origin("codex.model") == "command-line flag --model"
    assert loaded.origin("run.branch") == "default"


def test_explicit_config_file_wins_over_repo_default(tmp_path: Path) -> None:
    _write_config(tmp_path, "[loop]\nmax_attempts = 5\n")
    other = tmp_path / "other.toml"
    other.write_text("loop.max_attempts = 1\n", encoding="utf-8")
    assert load_settings(repo=tmp_path, config_file=other, env={}).loop.max_attempts == 1


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(repo=tmp_path, config_file=tmp_path / "nope.toml", env={})


def test_env_lists_are_json_and_bools_parse(tmp_path: Path) -> None:
    env = {
        "ORCH_CHECKS__COMMANDS": '["make test", "ruff check ."]',
        "ORCH_LOG__QUIET": "true",
        "ORCH_RUN__MAX_TOKENS": "",
        "ORCH_EVENT": "not a setting",
    }
    s = load_settings(repo=tmp_path, env=env)
    assert s.checks.commands == ["make test", "ruff check ."]
    assert s.log.quiet is True
    assert s.run.max_tokens is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("6h", 21600.0), ("1h30m", 5400.0), ("2.5", 2.5)],
)
def test_durations_accept_human_forms(tmp_path: Path, text: str, seconds: float) -> None:
    s = load_settings(
        repo=tmp_path,
        env={"ORCH_CHECKS__TIMEOUT": text},
        flags={"run.max_wall": text, "codex.step_timeout": text},
    )
    assert (s.checks.timeout, s.run.max_wall, s.codex.step_timeout) == (seconds,) * 3


def test_format_duration_round_trips() -> None:
    for seconds in (5, 65, 900, 3600, 5400, 3605, 86400):
        assert parse_duration(format_duration(seconds)) == seconds


def test_bad_duration_names_flag_and_expectation(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(repo=tmp_path, env={}, flags={"run.max_wall": "soon"})
    assert "run.max_wall" in info.value.message
    assert "command-line flag --max-wall" in info.value.message
    assert "1h30m" in info.value.message


def test_unknown_file_key_names_file_key_and_line(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "[loop]\nmax_attempts = 2\n\n[codex]\nmodle = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(repo=tmp_path, env={})
    assert "unknown setting 'codex.modle'" in info.value.message
    assert f"{path} key codex.modle (line 5)" in info.value.message


def test_unknown_section_names_the_file_and_line_not_default(tmp_path: Path) -> None:
    path = _write_config(tmp_path, "[loop]\nmax_attempts = 2\n\n[lop]\nx = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(repo=tmp_path, env={})
    message = info.value.message
    assert "unknown setting 'lop'" in message
    assert f"{path} key lop (line 4)" in message
    assert "from default" not in message


def test_unknown_key_suggests_the_close_name_and_the_fix(tmp_path: Path) -> None:
    _write_config(tmp_path, "[loop]\nmax_attempt = 2\n")
    with pytest.raises(ConfigError) as info:
        load_settings(repo=tmp_path, env={})
    assert "did you mean 'loop.max_attempts'?" in info.value.message
    assert "orchestrator config" in info.value.message


def test_a_key_given_where_a_table_belongs_says_so(tmp_path: Path) -> None:
    _write_config(tmp_path, "loop = 3\n")
    with pytest.raises(ConfigError) as info:
        load_settings(repo=tmp_path, env={})
    assert "LoopSettings" not in info.value.message
    assert "[loop]" in info.value.message


def test_bad_deadline_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"run\.deadline.*ORCH_RUN__DEADLINE"):
        load_settings(repo=tmp_path, env={"ORCH_RUN__DEADLINE": "25:00"})


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    _write_config(tmp_path, "[loop\n")
    with pytest.raises(ConfigError, match="not valid TOML.*line 1"):
        load_settings(repo=tmp_path, env={})


def test_cli_reports_env_error_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCH_LOOP__MAX_ATTEMPTS", "-1")
    assert main(["-C", str(tmp_path), "config"]) == 2
    err = capsys.readouterr().err
    assert "loop.max_attempts" in err
    assert "environment variable ORCH_LOOP__MAX_ATTEMPTS" in err
    assert "greater than or equal to 0" in err


def test_cli_reports_file_error_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_config(tmp_path, "[hooks]\ntimeout = 'forever'\n")
    assert main(["-C", str(tmp_path), "config"]) == 2
    err = capsys.readouterr().err
    assert f"{path} key hooks.timeout (line 2)" in err
    assert "invalid duration 'forever'" in err


def test_cli_show_json_lists_every_key_with_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_config(tmp_path, "[run]\nmax_wall = '2h'\n")
    monkeypatch.setenv("ORCH_CODEX__MODEL", "gpt-test")
    assert main(["-C", str(tmp_path), "--quiet", "config", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    expected = effective_values(
        resolve_settings(repo=tmp_path, env={"ORCH_CODEX__MODEL": "gpt-test"})
    )
    assert set(shown) == set(expected)
    assert shown["run.max_wall"]["value"] == 7200.0
    assert "orchestrator.toml" in shown["run.max_wall"]["source"]
    assert shown["codex.model"] == {
        "value": "gpt-test",
        "source": "environment variable ORCH_CODEX__MODEL",
    }
    assert shown["log.quiet"] == {"value": True, "source": "command-line flag --quiet"}


def test_cli_show_text_masks_secret_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCH_CODEX__PROFILE", "s3cr3t-value-123")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "s3cr3t-value-123")
    assert main(["-C", str(tmp_path), "config"]) == 0
    out = capsys.readouterr().out
    assert "codex.profile" in out
    assert "s3cr3t-value-123" not in out


def test_missing_config_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(repo=tmp_path, env={}, config_file=tmp_path / "nope.toml")
    assert "nope.toml does not exist" in info.value.message
    assert "--config" in info.value.message
