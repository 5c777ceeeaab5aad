"""`orchestrator rehearse` and the rehearsal path: the example in docs/scripted-model.md runs
green as written, in a scratch clone that leaves the user's tree untouched; scenario
problems are one readable paragraph naming the rule."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from tests.conftest import git

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scripted-model.md"


def _doc_examples() -> tuple[str, str]:
    """The plan (the ~~~markdown block) and the scenario (the first ```json block)."""
    text = DOC.read_text(encoding="utf-8")
    plan = re.search(r"^~~~markdown\n(.*?)^~~~$", text, re.S | re.M)
    scenario = re.search(r"^```json\n(.*?)^```$", text, re.S | re.M)
    assert plan, "docs/scripted-model.md lost its example plan"
    assert scenario, "docs/scripted-model.md lost its example scenario"
    return plan.group(1), scenario.group(1)


def _repo_with_plan(git_repo: Path, plan: str) -> Path:
    path = git_repo / ".agent" / "plans" / "calc.md"
    path.parent.mkdir(parents=True)
    path.write_text(plan, encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "add plan")
    return path


def _snapshot(repo: Path) -> tuple[str, str, list[str]]:
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if ".git" not in p.parts)
    return git(repo, "log", "--all", "--format=%H %s"), git(repo, "status", "--short"), files


@pytest.mark.e2e
def test_the_documented_example_rehearses_green_and_leaves_the_tree_alone(
    git_repo: Path, tmp_path: Path, codex_bin: Path
) -> None:
    plan, scenario = _doc_examples()
    _repo_with_plan(git_repo, plan)
    (tmp_path / "scenario.json").write_text(scenario, encoding="utf-8")
    before = _snapshot(git_repo)
    keep = tmp_path / "clone"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "-C", str(git_repo), "rehearse",
         ".agent/plans/calc.md", str(tmp_path / "scenario.json"), "--keep", str(keep),
         "--codex-bin", str(codex_bin)],
        capture_output=True, text=True, timeout=180, check=False,
        env={k: v for k, v in os.environ.items() if k != "CODEX_HOME"},
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "run passed (exit 0" in out
    assert "# Run " in proc.stdout  # the report is printed
    assert "| review | 1 | ok/approve |" in proc.stdout
    assert _snapshot(git_repo) == before  # the user's tree, branches and runs untouched
    assert "milestone 1: Add" in git(keep, "log", "--format=%s")
    assert (keep / "src" / "calc.py").is_file()


def test_a_working_tree_plan_is_rehearsed_as_edited(git_repo: Path, tmp_path: Path) -> None:
    """The clone carries the plan as it is in the working tree, committed in the clone."""
    from orchestrator.commands.rehearse import _clone

    plan, _ = _doc_examples()
    path = _repo_with_plan(git_repo, plan)
    path.write_text(plan.replace("A tiny calculator", "An edited calculator"), encoding="utf-8")
    clone = _clone(git_repo, Path(".agent/plans/calc.md"), tmp_path / "clone")
    assert "An edited calculator" in (clone / ".agent/plans/calc.md").read_text(encoding="utf-8")
    assert git(clone, "status", "--short") == ""
    assert git(git_repo, "status", "--short").strip() == "M .agent/plans/calc.md"


def _scenario(tmp_path: Path, rules: list[dict[str, object]]) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    return path


def test_a_scenario_answer_that_a_run_would_reject_is_refused_when_it_loads(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, _ = _doc_examples()
    _repo_with_plan(git_repo, plan)
    bad = _scenario(
        tmp_path,
        [{"name": "implement", "match": {"prompt_contains": "step=implement milestone=1 "},
          "reply": {"answer": {"summary": "added calc", "needs_human": False}}},
         {"name": "typo", "match": {"prompt_containz": "x"}}],
    )  # fmt: skip
    for argv in (
        ["-C", str(git_repo), "rehearse", ".agent/plans/calc.md", str(bad)],
        ["model-server", str(bad)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err  # one paragraph
        assert f"scenario {bad} is not valid" in err
        assert "rule 'implement': the answer of an implement step" in err
        assert "status: Field required" in err
        assert "needs_human: Extra inputs are not permitted" in err
        assert "rules[1].match.prompt_containz: Extra inputs are not permitted" in err
        assert "http" not in err  # no links to pydantic's pages
        assert "input_value" not in err
    assert git(git_repo, "status", "--short") == ""


def test_rehearse_also_checks_answers_without_a_marker(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, _ = _doc_examples()
    _repo_with_plan(git_repo, plan)
    loose = _scenario(
        tmp_path,
        [{"name": "by title", "match": {"prompt_contains": "Milestone 1"},
          "reply": {"answer": {"verdict": "approve", "findings": []}}}],
    )  # fmt: skip
    assert main(["-C", str(git_repo), "rehearse", ".agent/plans/calc.md", str(loose)]) == 2
    err = capsys.readouterr().err
    assert "a run would reject these answers: rules[0]: rule 'by title'" in err
    assert "the answer of a review step does not match the ReviewAnswer schema" in err
    assert "prompt markers" in err


def test_invalid_json_is_one_readable_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"rules": [', encoding="utf-8")
    assert main(["model-server", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"scenario {path} is not valid: the file: Invalid JSON" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("kind", ["latin-1", "directory"])
def test_an_unreadable_scenario_is_a_usage_error_naming_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = tmp_path / "s.json"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b'{"model": "caf\xe9", "rules": []}')
    assert main(["model-server", str(path)]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert f"scenario {path}" in err
    assert "docs/scripted-model.md" in err


def test_an_unrunnable_plan_is_refused_before_the_clone_naming_the_users_file(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(git_repo), "init"]) == 0
    _, scenario = _doc_examples()
    path = tmp_path / "s.json"
    path.write_text(scenario, encoding="utf-8")
    code = main(["-C", str(git_repo), "rehearse", ".agent/plans/TEMPLATE.md", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "rehearsal clone" not in out
    assert "orchestrator-rehearsal-" not in err
    assert re.search(r"\.agent/plans/TEMPLATE\.md:\d+: check 1\.1 is a placeholder", err), err
