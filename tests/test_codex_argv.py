"""build_argv: option order, resume, prompt placement."""

from __future__ import annotations

from pathlib import Path

from orchestrator.codex.argv import build_argv, stdin_bytes
from orchestrator.codex.step import StepRequest
from orchestrator.settings.model import CodexSettings


def _req(cwd: Path, **kw: object) -> StepRequest:
    return StepRequest(prompt="review", cwd=cwd, transcript=cwd / "t.jsonl", **kw)


def test_fresh_step(git_repo: Path, tmp_path: Path) -> None:
    settings = CodexSettings(
        binary="/opt/codex",
        model="gpt-5.5",
        profile="ci",
        config_overrides=["a.b=1"],
        extra_args=["--add-dir", "/data"],
    )
    argv = build_argv(
        _req(git_repo, output_schema=tmp_path / "s.json", last_message=tmp_path / "o.txt"),
        settings,
    )
    assert argv[:6] == ["/opt/codex", "exec", "-s", "workspace-write", "-C", str(git_repo)]
    assert argv[-2:] == ["--", "review"]  # a prompt is never read as a subcommand
    assert "resume" not in argv
    for flag, value in [
        ("-m", "gpt-5.5"),
        ("-p", "ci"),
        ("-c", "a.b=1"),
        ("--disable", "unbounded_connection_retries"),
        ("--output-schema", str(tmp_path / "s.json")),
        ("-o", str(tmp_path / "o.txt")),
        ("--add-dir", "/data"),
    ]:
        assert argv[argv.index(flag) + 1] == value
    assert "--json" in argv
    assert "--skip-git-repo-check" not in argv
    assert stdin_bytes(_req(git_repo)) is None


def test_resume_puts_sandbox_and_dir_before_resume(git_repo: Path) -> None:
    settings = CodexSettings(binary="codex", model="m1", profile="p")
    argv = build_argv(_req(git_repo, resume_thread="T-1", sandbox="read-only"), settings)
    at = argv.index("resume")
    assert argv[at + 1] == "T-1"
    for before in ("-s", "-C", "-p", "--disable"):
        assert argv.index(before) < at
    for after in ("--json", "-m"):
        assert argv.index(after) > at
    assert argv[argv.index("-s") + 1] == "read-only"
    assert argv[argv.index("-m") + 1] == "m1"


def test_outside_git_skips_the_repo_check(tmp_path: Path) -> None:
    argv = build_argv(_req(tmp_path), CodexSettings(binary="codex"))
    assert "--skip-git-repo-check" in argv


def test_default_binary_is_found() -> None:
    argv = build_argv(_req(Path.cwd()), CodexSettings())
    assert Path(argv[0]).name == "codex"


def test_huge_prompt_goes_on_stdin(git_repo: Path) -> None:
    prompt = "x" * 200_000
    request = StepRequest(prompt=prompt, cwd=git_repo, transcript=git_repo / "t")
    argv = build_argv(request, CodexSettings(binary="codex"))
    assert argv[-1] == "-"
    assert prompt not in argv
    assert stdin_bytes(request) == prompt.encode()
