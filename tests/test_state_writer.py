"""The run's saves are written off its path, in order, and waited for before a read."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.store.state import MilestoneState, RunState, load_state, state_path
from orchestrator.store.state_writer import StateWriter


def _state() -> RunState:
    return RunState(
        run_id="20260101-000000-aaaa", plan_path="p.md", milestones=[MilestoneState(id="1")]
    )


def test_saves_land_in_order_and_sealed(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    writer = StateWriter(path)
    state = _state()
    written = []
    for tokens in range(5):
        state.tokens_total = tokens
        written.append(writer.save(state))
    writer.wait()
    assert path.read_bytes() == written[-1]
    assert load_state(path).tokens_total == 4


def test_a_failed_save_is_raised_to_the_next_waiter(tmp_path: Path) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the run directory should be")
    writer = StateWriter(blocker / "r" / "state.json")
    writer.save(_state())
    with pytest.raises(NotADirectoryError):
        writer.wait()
    writer.wait()  # raised once
