from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands.init import AGENTS_MARKER, FILES, TEMPLATES_DIR, scaffold
from orchestrator.settings.loader import load_settings

ROOT = Path(__file__).resolve().parent.parent


def _require_plans_template() -> None:
    if not (TEMPLATES_DIR / "PLANS.md").exists():
        pytest.fail(
            "orchestrator/templates/PLANS.md is missing: copy the project's .agent/PLANS.md there"
        )


def test_init_creates_everything(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _require_plans_template()
    assert main(["init", str(git_repo)]) == 0
    out = capsys.readouterr().out
    for target, name in FILES:
        assert f"created  {target}" in out
        assert (git_repo / target).read_text() == (TEMPLATES_DIR / name).read_text()
    assert "created  AGENTS.md" in out
    assert AGENTS_MARKER in (git_repo / "AGENTS.md").read_text()
    load_settings(repo=git_repo, env={})  # the generated config is valid


def test_init_twice_skips_and_changes_nothing(git_repo: Path) -> None:
    _require_plans_template()
    scaffold(git_repo)
    before = {
        p: p.read_bytes() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    actions = scaffold(git_repo)
    assert {a.action for a in actions} == {"skipped"}
    after = {
        p: p.read_bytes() for p in git_repo.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert before == after


def test_init_keeps_existing_files_and_appends_to_agents_md(tmp_path: Path) -> None:
    _require_plans_template()
    (tmp_path / ".agent").mkdir()
    (tmp_path / ".agent" / "orchestrator.toml").write_text("[loop]\nmax_attempts = 9\n")
    (tmp_path / "AGENTS.md").write_text("# Rules\nBe nice.")
    actions = {a.path: a.action for a in scaffold(tmp_path)}
    assert actions[".agent/orchestrator.toml"] == "skipped"
    assert actions["AGENTS.md"] == "appended"
    assert (tmp_path / ".agent" / "orchestrator.toml").read_text() == "[loop]\nmax_attempts = 9\n"
    agents = (tmp_path / "AGENTS.md").read_text()
    assert agents.startswith("# Rules\nBe nice.\n\n")
    assert agents.count(AGENTS_MARKER) == 1
    assert {a.path: a.action for a in scaffold(tmp_path)}["AGENTS.md"] == "skipped"
    assert (tmp_path / "AGENTS.md").read_text() == agents


def test_init_creates_a_missing_directory(tmp_path: Path) -> None:
    _require_plans_template()
    target = tmp_path / "new" / "project"
    scaffold(target)
    assert (target / ".agent" / "plans" / "TEMPLATE.md").is_file()


def test_plan_template_is_complete_but_its_placeholders_do_not_run(tmp_path: Path) -> None:
    from orchestrator.plan.lint import lint_plan

    plan = tmp_path / "plan.md"
    plan.write_text((TEMPLATES_DIR / "TEMPLATE.md").read_text())
    assert main(["check", str(plan)]) == 2
    problems = lint_plan(plan).problems
    assert problems
    assert all("is a placeholder from the template" in p.message for p in problems)


@pytest.mark.parametrize("name", ["PLANS.md", "plans/TEMPLATE.md"])
def test_packaged_templates_match_the_project_copies(name: str) -> None:
    project = ROOT / ".agent" / name
    packaged = TEMPLATES_DIR / Path(name).name
    if not project.exists():
        if name == "PLANS.md":
            pytest.fail(f"the project's {project} is missing")
        return  # the project keeps no plan template of its own
    assert packaged.read_text(encoding="utf-8") == project.read_text(encoding="utf-8"), (
        f"{packaged} differs from {project}: copy the project's file into the package"
    )


def test_dash_c_init_writes_into_that_directory(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_plans_template()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["-C", str(git_repo), "init"]) == 0
    assert (git_repo / ".agent" / "plans" / "TEMPLATE.md").is_file()
    assert (git_repo / "AGENTS.md").is_file()
    assert list(elsewhere.iterdir()) == []
    # a DIR after init is taken relative to -C, as every other path is
    assert main(["-C", str(git_repo), "init", "sub"]) == 0
    assert (git_repo / "sub" / ".agent" / "PLANS.md").is_file()
    assert list(elsewhere.iterdir()) == []
