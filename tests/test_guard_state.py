"""The run state is sealed under .git: an edit by anything but the orchestrator is
detected on load (exit 2 naming the file and the fix) and put back during a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.errors import StateTamperedError
from orchestrator.run.session import start_run
from orchestrator.settings.model import VerifySettings
from orchestrator.store.seal import seal_path
from orchestrator.store.state import (
    MilestoneState,
    RunState,
    list_runs,
    load_state,
    save_state,
    scan_runs,
    state_path,
)
from tests.supervisor_helpers import (
    PLAN_REL,
    approve_all,
    implement,
    make_settings,
    write_plan,
    write_scenario,
)


def _state(run_id: str) -> RunState:
    return RunState(run_id=run_id, plan_path=PLAN_REL, milestones=[MilestoneState(id="1")])


def test_a_saved_state_is_sealed_under_git(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    save_state(path, _state("20260101-000000-aaaa"))
    seal = seal_path(path)
    assert seal is not None
    assert seal.parent == git_repo / ".git" / "orchestrator" / "seals"
    assert load_state(path).run_id == "20260101-000000-aaaa"
    assert (git_repo / ".git/orchestrator/seal.key").stat().st_mode & 0o777 == 0o600


def test_an_edited_state_is_not_trusted(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    save_state(path, _state("20260101-000000-aaaa"))
    data = json.loads(path.read_text())
    data["milestones"][0]["status"] = "passed"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(StateTamperedError) as info:
        load_state(path)
    message = info.value.message
    assert f"run state {path} cannot be trusted" in message
    assert "does not match its seal" in message
    assert "orchestrator resume --rebuild --run 20260101-000000-aaaa PLAN" in message
    assert info.value.plan_path == PLAN_REL
    seal = seal_path(path)
    assert seal is not None
    seal.unlink()
    with pytest.raises(StateTamperedError, match="has no seal"):
        load_state(path)


def test_the_previous_save_still_matches_so_a_kill_between_the_writes_is_safe(
    git_repo: Path,
) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    first = _state("20260101-000000-aaaa")
    save_state(path, first)
    old = path.read_bytes()
    first.tokens_total = 5
    save_state(path, first)
    path.write_bytes(old)  # as if killed after the seal was written, before the rename
    assert load_state(path).tokens_total == 0


def test_a_seal_record_cut_short_by_a_crash_does_not_hide_the_next_one(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    state = _state("20260101-000000-aaaa")
    save_state(path, state)
    seal = seal_path(path)
    assert seal is not None
    with seal.open("ab") as f:
        f.write(b"\n0123abcd")  # a record the crash cut short
    state.tokens_total = 7
    save_state(path, state)
    assert load_state(path).tokens_total == 7
    path.write_text(path.read_text().replace('"tokens_total": 7', '"tokens_total": 9'))
    with pytest.raises(StateTamperedError, match="does not match its seal"):
        load_state(path)


def test_each_save_appends_one_digest_to_the_seal(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    state = _state("20260101-000000-aaaa")
    for tokens in range(3):
        state.tokens_total = tokens
        save_state(path, state)
    seal = seal_path(path)
    assert seal is not None
    records = seal.read_text().split("\n")
    assert records[0] == ""
    assert [len(r) for r in records[1:]] == [64, 64, 64]
    assert len(set(records[1:])) == 3


def test_a_seal_in_the_earlier_json_format_is_still_read(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    save_state(path, _state("20260101-000000-aaaa"))
    seal = seal_path(path)
    assert seal is not None
    digest = seal.read_text().split("\n")[-1]
    seal.unlink()
    old = seal.with_suffix(".json")
    old.write_text(json.dumps({"run_id": "20260101-000000-aaaa", "hmac": [digest]}))
    assert load_state(path).run_id == "20260101-000000-aaaa"
    old.write_text(json.dumps({"run_id": "20260101-000000-aaaa", "hmac": ["0" * 64]}))
    with pytest.raises(StateTamperedError, match="does not match its seal"):
        load_state(path)


def test_a_state_outside_a_repository_needs_no_seal(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    save_state(path, _state("r"))
    assert seal_path(path) is None
    assert load_state(path).run_id == "r"


def test_a_check_that_edits_the_state_is_undone(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    edit = (
        "python3 -c \"import json,glob; p=glob.glob('.agent/runs/*/state.json')[0]; "
        "d=json.load(open(p)); d['milestones'][0]['attempts']=0; d['tokens_total']=0; "
        "json.dump(d, open(p, 'w'))\""
    )
    write_plan(git_repo, [("first", [f"test -f m1.txt && {edit}"])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    settings = make_settings(fake_codex).model_copy(
        update={"verify": VerifySettings(isolation="in_place", sandbox="off", baseline=False)}
    )
    code = start_run(repo=git_repo, plan_path=Path(PLAN_REL), settings=settings, fresh=False)
    assert code == 3
    state = list_runs(git_repo)[0]  # loads: sealed again by the orchestrator
    reason = state.milestones[0].stop_reason or ""
    assert "a validation check changed the run state" in reason
    assert state.tokens_total > 0


def test_resume_and_run_refuse_a_tampered_state(
    git_repo: Path, fake_codex: Path, scenario_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_plan(git_repo, [("first", ["test -f m1.txt"])])
    write_scenario(scenario_file, [implement("1", status="needs_human", question="?")])
    cli = ["-C", str(git_repo)]
    codex = ["--codex-bin", str(fake_codex)]
    assert main([*cli, "run", PLAN_REL, *codex]) == 3
    state = list_runs(git_repo)[0]
    path = state_path(git_repo, state.run_id)
    data = json.loads(path.read_text())
    data["milestones"][0]["status"] = "passed"
    path.write_text(json.dumps(data))
    capsys.readouterr()
    for args in (["resume"], ["run", PLAN_REL]):
        assert main([*cli, *args, *codex]) == 2
        err = capsys.readouterr().err
        assert f"run state {path} cannot be trusted" in err
        assert "--rebuild" in err
    assert isinstance(scan_runs(git_repo)[1][0], StateTamperedError)
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    assert main([*cli, "resume", "--rebuild", PLAN_REL, *codex]) == 0
    assert list(path.parent.glob("state.json.corrupt-*"))
