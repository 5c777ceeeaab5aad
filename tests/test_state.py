from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.errors import StateError
from orchestrator.store.state import (
    CheckRecord,
    MilestoneState,
    RunState,
    StepRecord,
    find_unfinished,
    list_runs,
    load_state,
    new_run_id,
    run_dir,
    save_state,
    scan_runs,
    state_path,
)


def _state(run_id: str, plan: str = "docs/plan.md", status: str = "running") -> RunState:
    return RunState.model_validate(
        {
            "run_id": run_id,
            "plan_path": plan,
            "plan_hash": "abc",
            "status": status,
            "pinned_checks": {"1": ["pytest -q"], "plan": ["ruff check ."]},
            "milestones": [
                MilestoneState(
                    id="1",
                    title="Setup",
                    status="running",
                    steps=[StepRecord(kind="implement", thread_id="t-1", tokens=12)],
                    last_checks=[
                        CheckRecord(
                            check_id="1.1",
                            command="pytest -q",
                            exit_code=1,
                            passed=False,
                            ended="exited",
                            duration_s=0.5,
                        )
                    ],
                    findings=[{"severity": "major", "path": None, "message": "m"}],
                )
            ],
        }
    )


def test_new_run_id_is_sortable_and_unique() -> None:
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) > 1
    for run_id in ids:
        assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_id)


def test_round_trip(git_repo: Path) -> None:
    state = _state("20260101-000000-aaaa")
    path = state_path(git_repo, state.run_id)
    save_state(path, state)
    loaded = load_state(path)
    assert loaded == state
    assert loaded.milestone("1").steps[0].thread_id == "t-1"
    assert path.parent == run_dir(git_repo, state.run_id)
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValueError, match="extra"):
        StepRecord.model_validate({"kind": "implement", "bogus": 1})


def test_crash_between_temp_write_and_rename_keeps_old_file(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    save_state(path, _state("old"))
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from orchestrator.store.atomic import atomic_write\n"
        "atomic_write(Path(sys.argv[1]), b'{\"new\": true}',"
        " before_replace=lambda: os.kill(os.getpid(), signal.SIGKILL))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    assert proc.returncode == -9
    assert load_state(path).run_id == "old"
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "state.json"]
    assert len(leftovers) == 1
    assert leftovers[0].endswith(".tmp")
    assert json.loads((path.parent / leftovers[0]).read_text(encoding="utf-8")) == {"new": True}


def test_corrupt_json_names_file_and_fix_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "20260101-000000-abcd" / "state.json"
    path.parent.mkdir()
    path.write_text('{"version": 1, "run_id": ', encoding="utf-8")
    with pytest.raises(StateError) as info:
        load_state(path)
    message = info.value.message
    assert str(path) in message
    assert "not valid JSON" in message
    assert "orchestrator resume --rebuild" in message
    assert "--run 20260101-000000-abcd" in message
    assert path.read_text(encoding="utf-8") == '{"version": 1, "run_id": '


def test_invalid_content_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    data = _state("x").model_dump(mode="json")
    data["milestones"][0]["status"] = "exploded"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError, match=r"milestones\.0\.status"):
        load_state(path)


def test_version_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    data = _state("x").model_dump(mode="json")
    data["version"] = 99
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError, match="version 99; this orchestrator reads version 1"):
        load_state(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        load_state(tmp_path / "state.json")


def test_list_runs_newest_first_skipping_corrupt(git_repo: Path) -> None:
    for run_id in ("20260101-000000-aaaa", "20260301-000000-cccc", "20260201-000000-bbbb"):
        save_state(state_path(git_repo, run_id), _state(run_id))
    bad = state_path(git_repo, "20260401-000000-dddd")
    bad.parent.mkdir(parents=True)
    bad.write_text("not json", encoding="utf-8")
    (run_dir(git_repo, "no-state-yet")).mkdir()
    assert [r.run_id for r in list_runs(git_repo)] == [
        "20260301-000000-cccc",
        "20260201-000000-bbbb",
        "20260101-000000-aaaa",
    ]
    runs, errors = scan_runs(git_repo)
    assert len(runs) == 3
    assert len(errors) == 1
    assert str(bad) in errors[0].message


def test_list_runs_without_runs_dir(git_repo: Path) -> None:
    assert list_runs(git_repo) == []
    assert find_unfinished(git_repo, "docs/plan.md") is None


def test_find_unfinished(git_repo: Path) -> None:
    save_state(state_path(git_repo, "20260101-000000-aaaa"), _state("20260101-000000-aaaa"))
    save_state(
        state_path(git_repo, "20260102-000000-bbbb"),
        _state("20260102-000000-bbbb", plan="docs/other.md", status="needs_human"),
    )
    found = find_unfinished(git_repo, "./docs/plan.md")
    assert found is not None
    assert found.run_id == "20260101-000000-aaaa"
    other = find_unfinished(git_repo, "docs/other.md")
    assert other is not None
    assert other.status == "needs_human"
    # a newer run of the plan that passed supersedes the older unfinished one
    save_state(
        state_path(git_repo, "20260103-000000-cccc"),
        _state("20260103-000000-cccc", status="passed"),
    )
    assert find_unfinished(git_repo, "docs/plan.md") is None


def test_assignment_is_validated() -> None:
    state = _state("x")
    with pytest.raises(ValueError, match="status"):
        state.status = "nonsense"  # type: ignore[assignment]


def test_a_state_from_an_earlier_version_with_retired_fields_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    save_state(path, _state("old"))
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(settings={"loop": {"max_attempts": 3}}, last_event="step_started")
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_state(path)
    assert loaded.run_id == "old"
    assert "settings" not in loaded.model_dump()


def test_phase_and_findings_are_typed(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    save_state(path, _state("typed"))
    assert load_state(path).milestones[0].findings[0].line() == "[major] m"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["milestones"][0]["phase"] = "half-done"
    data["milestones"][0]["findings"] = [{"severity": "huge", "path": None, "message": "m"}]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError) as info:
        load_state(path)
    assert "milestones.0.phase" in info.value.message
    assert "milestones.0.findings.0.severity" in info.value.message


def test_step_outcomes_from_an_earlier_version_load_as_outcome_and_answer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run" / "state.json"
    save_state(path, _state("old"))
    data = json.loads(path.read_text(encoding="utf-8"))
    old = ["ok/done", "invalid_answer", "ok/changes_requested", "stalled", "passed", None]
    data["milestones"][0]["steps"] = [
        {"kind": "review" if o and "request" in o else "implement", "outcome": o} for o in old
    ]
    path.write_text(json.dumps(data), encoding="utf-8")
    steps = load_state(path).milestones[0].steps
    assert [(s.outcome, s.answer) for s in steps] == [
        ("ok", "done"),
        ("ok", "invalid"),
        ("ok", "changes_requested"),
        ("stalled", None),
        ("passed", None),
        (None, None),
    ]
    assert [s.label for s in steps] == old
    # saved again in the new form, they read back the same
    save_state(path, load_state(path))
    assert [s.label for s in load_state(path).milestones[0].steps] == old


def test_an_unknown_step_outcome_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    save_state(path, _state("typed"))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["milestones"][0]["steps"][0]["outcome"] = "ok/maybe"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError, match=r"milestones\.0\.steps\.0\.answer"):
        load_state(path)
    data["milestones"][0]["steps"][0]["outcome"] = "half-way"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateError, match=r"milestones\.0\.steps\.0\.outcome"):
        load_state(path)
