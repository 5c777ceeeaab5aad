"""The fake codex executable: the CLI surface and each scenario behaviour."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orchestrator.testing.fake_codex import install_fake_codex, read_state
from orchestrator.testing.fake_patch import PatchError, apply_patch


def _fake(tmp_path: Path, rules: list[dict[str, Any]]) -> tuple[Path, dict[str, str]]:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    env = {**os.environ, "FAKE_CODEX_SCENARIO": str(scenario)}
    return install_fake_codex(tmp_path / "bin"), env


def _exec(
    codex: Path, env: dict[str, str], cwd: Path, *args: str, stdin: str = ""
) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [str(codex), "exec", "--json", "-C", str(cwd), *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events, done.stderr


def test_version(tmp_path: Path) -> None:
    codex, env = _fake(tmp_path, [])
    out = subprocess.run([str(codex), "--version"], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "codex-cli 0.169.0 (fake)"


def test_reply_runs_commands_and_counts_state(tmp_path: Path, git_repo: Path) -> None:
    rules: list[dict[str, Any]] = [
        {"name": "once", "times": 1, "match": {"prompt_contains": "hello"},
         "reply": {"commands": ["echo out; exit 4"], "message": "first"}},
        {"name": "rest", "reply": {"message": "second"}},
    ]  # fmt: skip
    codex, env = _fake(tmp_path, rules)
    rc, events, _ = _exec(codex, env, git_repo, "--", "hello there")
    assert rc == 0
    types = [e["type"] for e in events]
    assert types[:2] == ["thread.started", "turn.started"]
    assert types[-1] == "turn.completed"
    done = [e["item"] for e in events if e["type"] == "item.completed"]
    assert done[0]["aggregated_output"] == "out\n"
    assert (done[0]["exit_code"], done[0]["status"]) == (4, "failed")
    assert done[-1] == {"id": "item_1", "type": "agent_message", "text": "first"}
    thread = events[0]["thread_id"]
    usage1 = events[-1]["usage"]["input_tokens"]
    rc, events, _ = _exec(codex, env, git_repo, "resume", thread, "--", "hello again")
    assert rc == 0
    assert events[0]["thread_id"] == thread
    assert events[-2]["item"]["text"] == "second"
    assert events[-1]["usage"]["input_tokens"] > usage1  # cumulative per thread
    state = read_state(tmp_path / "scenario.json")
    assert state["fired"] == {"once": 1, "rest": 1}
    assert [i["resumed"] for i in state["invocations"]] == [False, True]


def test_prompt_on_stdin_and_schema_match(tmp_path: Path, git_repo: Path) -> None:
    rules = [
        {"name": "review", "match": {"schema_property": "verdict"},
         "reply": {"answer": {"verdict": "approve"}}},
    ]  # fmt: skip
    codex, env = _fake(tmp_path, rules)
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"verdict": {}}}))
    out = tmp_path / "last.txt"
    rc, events, _ = _exec(
        codex, env, git_repo, "--output-schema", str(schema), "-o", str(out), "-", stdin="go"
    )
    assert rc == 0
    assert json.loads(out.read_text()) == {"verdict": "approve"}
    assert read_state(tmp_path / "scenario.json")["invocations"][0]["prompt"] == "go"


@pytest.mark.parametrize(
    ("args", "rc", "stderr"),
    [
        (["resume", "nope", "--", "x"], 1, "no rollout found"),
        (["-s", "read-only", "resume", "abc", "-C", "/", "--", "x"], 2, "unexpected argument"),
        (["--bogus", "--", "x"], 2, "unexpected argument"),
        (["--output-schema", "/nonexistent.json", "--", "x"], 1, "Failed to read output schema"),
        ([], 1, "No prompt provided"),
    ],
)
def test_cli_errors_like_codex(
    tmp_path: Path, git_repo: Path, args: list[str], rc: int, stderr: str
) -> None:
    codex, env = _fake(tmp_path, [{"name": "any"}])
    got_rc, events, got_err = _exec(codex, env, git_repo, *args)
    assert got_rc == rc
    assert events == []
    assert stderr in got_err


def test_outside_git_needs_skip_flag(tmp_path: Path) -> None:
    work = tmp_path / "plain"
    work.mkdir()
    codex, env = _fake(tmp_path, [{"name": "any"}])
    rc, _, err = _exec(codex, env, work, "--", "x")
    assert rc == 1
    assert "skip-git-repo-check" in err
    rc, _, _ = _exec(codex, env, work, "--skip-git-repo-check", "--", "x")
    assert rc == 0


def test_unmatched_prompt_fails_the_turn(tmp_path: Path, git_repo: Path) -> None:
    codex, env = _fake(tmp_path, [{"name": "a", "match": {"prompt_contains": "zzz"}}])
    rc, events, _ = _exec(codex, env, git_repo, "--", "something else")
    assert rc == 1
    assert events[-1]["type"] == "turn.failed"
    assert "something else" in events[-1]["error"]["message"]


def test_faults(tmp_path: Path, git_repo: Path) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "http", "status": 429}, "exceeded retry limit, last status: 429"),
        ({"kind": "http", "status": 401}, "unexpected status 401 Unauthorized"),
        ({"kind": "http", "status": 500}, "high demand"),
        ({"kind": "cut"}, "stream disconnected before completion"),
    ]
    rules = [
        {"name": f"r{i}", "match": {"prompt_contains": f"case{i}"}, "reply": {"fault": f}}
        for i, (f, _) in enumerate(cases)
    ]
    codex, env = _fake(tmp_path, rules)
    for i, (_, message) in enumerate(cases):
        rc, events, _ = _exec(codex, env, git_repo, "--", f"case{i}")
        assert rc == 1
        assert events[-1]["type"] == "turn.failed"
        assert message in events[-1]["error"]["message"]
        assert "turn.completed" not in [e["type"] for e in events]


def test_crash_flood_and_malformed(tmp_path: Path, git_repo: Path) -> None:
    rules = [
        {"name": "crash", "match": {"prompt_contains": "crash"},
         "reply": {"fault": {"kind": "crash", "exit_code": 7}}},
        {"name": "flood", "match": {"prompt_contains": "flood"},
         "reply": {"fault": {"kind": "flood", "bytes": 300_000}}},
        {"name": "bad", "reply": {"fault": {"kind": "malformed"}, "message": "fine"}},
    ]  # fmt: skip
    codex, env = _fake(tmp_path, rules)
    rc, events, _ = _exec(codex, env, git_repo, "--", "crash")
    assert rc == 7
    assert [e["type"] for e in events] == ["thread.started", "turn.started"]
    rc, events, _ = _exec(codex, env, git_repo, "--", "flood")
    assert rc == 0
    outputs = [len(e["item"].get("aggregated_output", "")) for e in events if "item" in e]
    assert sum(outputs) == 300_000
    assert max(outputs) == 150_000  # one giant line
    done = subprocess.run(
        [str(codex), "exec", "--json", "-C", str(git_repo), "--", "x"],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[2] == "this is not json {"
    with pytest.raises(json.JSONDecodeError, match="Unterminated"):
        json.loads(lines[3])
    assert json.loads(lines[-1])["type"] == "turn.completed"


def test_hang_exits_on_sigint(tmp_path: Path, git_repo: Path) -> None:
    codex, env = _fake(tmp_path, [{"name": "h", "reply": {"fault": {"kind": "hang"}}}])
    proc = subprocess.Popen(
        [str(codex), "exec", "--json", "-C", str(git_repo), "--", "x"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.stdout.readline()  # events come after the SIGINT handler is in place
    proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 1
    proc.stdout.close()


def test_patch_add_update_delete(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    (tmp_path / "gone.txt").write_text("x\n")
    patch = (
        "*** Begin Patch\n*** Add File: sub/new.txt\n+hello\n+world\n"
        "*** Update File: a.txt\n@@\n one\n-two\n+TWO\n three\n"
        "*** Delete File: gone.txt\n*** End Patch\n"
    )
    changes = apply_patch(patch, tmp_path)
    assert [k for _, k in changes] == ["add", "update", "delete"]
    assert (tmp_path / "sub/new.txt").read_text() == "hello\nworld\n"
    assert (tmp_path / "a.txt").read_text() == "one\nTWO\nthree\n"
    assert not (tmp_path / "gone.txt").exists()
    with pytest.raises(PatchError):
        apply_patch("*** Begin Patch\n*** Update File: a.txt\n@@\n-nope\n+x\n", tmp_path)
