"""The orchestrator's inputs (.agent/, config, programs it names) kept as a person wrote them."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.guard.inputs import InputsKeeper, program_files
from orchestrator.settings.model import CheckSettings, CodexSettings, HookSettings, Settings

CONFIG = "[loop]\nmax_attempts = 2\n"


def _tree(root: Path) -> Path:
    (root / ".agent/plans").mkdir(parents=True)
    (root / ".agent/orchestrator.toml").write_text(CONFIG)
    (root / ".agent/plans/feature.md").write_text("# plan\n")
    (root / ".agent/runs/r1").mkdir(parents=True)
    (root / "scripts").mkdir()
    hook = root / "scripts/notify.sh"
    hook.write_text("#!/bin/sh\necho hi\n")
    hook.chmod(0o755)
    return root


def test_nothing_changed_is_silent(tmp_path: Path) -> None:
    keeper = InputsKeeper(_tree(tmp_path), skip=[".agent/plans/feature.md"])
    (tmp_path / ".agent/runs/r1/state.json").write_text("{}")  # run artefacts are ours
    (tmp_path / ".agent/plans/feature.md").write_text("# plan, edited\n")  # its own keeper
    (tmp_path / "src.py").write_text("x = 1\n")  # the agent's work
    assert keeper.check_and_restore("the implement step") is None


def test_config_edit_is_reverted_with_its_diff(tmp_path: Path) -> None:
    keeper = InputsKeeper(_tree(tmp_path))
    config = tmp_path / ".agent/orchestrator.toml"
    config.write_text(CONFIG + "[hooks]\nrun_finished = ['touch /tmp/x']\n")
    evidence = tmp_path / "evidence"
    reason = keeper.check_and_restore("the implement step", evidence)
    assert reason is not None
    assert reason.startswith("the implement step changed files")
    assert ".agent/orchestrator.toml" in reason
    assert "+run_finished = ['touch /tmp/x']" in reason
    assert config.read_text() == CONFIG
    (diff,) = evidence.glob("*-inputs.diff")
    assert "+[hooks]" in diff.read_text()
    assert keeper.check_and_restore("again") is None


def test_new_files_and_directories_under_agent_are_removed(tmp_path: Path) -> None:
    keeper = InputsKeeper(_tree(tmp_path))
    (tmp_path / ".agent/hooks/deep").mkdir(parents=True)
    (tmp_path / ".agent/hooks/deep/evil.sh").write_text("touch /tmp/x\n")
    os.symlink("/bin/true", tmp_path / ".agent/link")
    reason = keeper.check_and_restore("a validation check")
    assert reason is not None
    assert ".agent/hooks/deep/evil.sh" in reason
    assert ".agent/link" in reason
    assert not (tmp_path / ".agent/hooks").exists()
    assert not (tmp_path / ".agent/link").is_symlink()
    assert (tmp_path / ".agent/runs/r1").is_dir()


def test_deleted_and_replaced_files_come_back(tmp_path: Path) -> None:
    keeper = InputsKeeper(_tree(tmp_path))
    config = tmp_path / ".agent/orchestrator.toml"
    config.unlink()
    config.mkdir()
    (config / "inner").write_text("x")
    (tmp_path / ".agent/plans/feature.md").unlink()  # not ours to guard: the plan keeper's
    keeper2 = InputsKeeper(tmp_path)
    assert keeper.check_and_restore("the repair step") is not None
    assert config.read_text() == CONFIG
    assert keeper2.check_and_restore("x") is not None  # keeper2 saw the directory


def test_hook_script_named_by_a_hook_is_protected_with_its_mode(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    settings = Settings(hooks=HookSettings(needs_human=["./scripts/notify.sh --loud"]))
    keeper = InputsKeeper.for_run(root, settings, plan_rel=".agent/plans/feature.md")
    hook = root / "scripts/notify.sh"
    hook.write_text("#!/bin/sh\ntouch /tmp/escaped\n")
    hook.chmod(0o644)
    reason = keeper.check_and_restore("the implement step")
    assert reason is not None
    assert "scripts/notify.sh" in reason
    assert "+touch /tmp/escaped" in reason
    assert hook.read_text() == "#!/bin/sh\necho hi\n"
    assert hook.stat().st_mode & 0o777 == 0o755


def test_program_files_names_what_runs_with_our_rights(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "tools").mkdir()
    (root / "tools/codex").write_text("#!/bin/sh\n")
    (root / "tools/sh").write_text("#!/bin/sh\n")
    os.symlink("sh", root / "tools/shell")
    (root / "ci.toml").write_text("")
    settings = Settings(
        codex=CodexSettings(binary=str(root / "tools/codex")),
        checks=CheckSettings(shell="tools/shell"),
        hooks=HookSettings(
            run_finished=['bash "$ORCH_REPO/scripts/notify.sh" && curl https://example.invalid']
        ),
    )
    found = program_files(root, settings, root / "ci.toml")
    assert found == ["ci.toml", "scripts/notify.sh", "tools/codex", "tools/sh", "tools/shell"]
    outside = Settings(codex=CodexSettings(binary="/bin/true"), checks=CheckSettings(shell="bash"))
    assert program_files(root, outside, tmp_path.parent / "elsewhere.toml") == []


def test_a_file_too_big_to_keep_is_reported_not_restored(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    big = root / ".agent/blob.bin"
    big.write_bytes(b"\0" * (16 * 1024 * 1024 + 1))
    keeper = InputsKeeper(root)
    big.write_bytes(b"\1")
    reason = keeper.check_and_restore("the implement step")
    assert reason is not None
    assert "restore it by hand" in reason
    assert big.read_bytes() == b"\1"  # left as found


def test_worktrees_of_parallel_plans_are_theirs(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / ".agent/worktrees/plan-b/.agent").mkdir(parents=True)
    keeper = InputsKeeper(root)
    (root / ".agent/worktrees/plan-b/src.py").write_text("x = 2\n")
    (root / ".agent/worktrees/plan-b/.agent/orchestrator.toml").write_text("")
    assert keeper.check_and_restore("the implement step") is None
