"""The run's saves are written off its path, in order, and waited for before a read."""

from __future__ import annotations

import threading
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


def test_a_save_does_not_wait_for_the_one_before(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    writer = StateWriter(path)
    state = _state()
    release = threading.Event()
    seen: list[bytes | None] = []

    def held(written: bytes | None) -> None:
        seen.append(written)
        assert release.wait(30), "the test never released the writer"

    first = writer.save(state, held)
    state.tokens_total = 1
    second = writer.save(state, seen.append)  # returns while the first is still held
    release.set()
    writer.wait()
    assert seen == [None, first]  # each write is told what the file should hold
    assert path.read_bytes() == second


def test_an_edit_between_two_saves_is_seen_before_it_is_overwritten(git_repo: Path) -> None:
    path = state_path(git_repo, "20260101-000000-aaaa")
    writer = StateWriter(path)
    state = _state()
    writer.save(state)
    writer.wait()
    path.write_text(path.read_text().replace('"tokens_total": 0', '"tokens_total": 9'))
    found: list[bool] = []
    state.tokens_total = 1
    writer.save(state, lambda written: found.append(path.read_bytes() != written))
    writer.wait()
    assert found == [True]
    assert load_state(path).tokens_total == 1


def test_a_failed_save_fails_the_saves_queued_after_it(tmp_path: Path) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the run directory should be")
    writer = StateWriter(blocker / "r" / "state.json")
    release = threading.Event()
    later: list[bytes | None] = []

    def held(_: bytes | None) -> None:
        assert release.wait(30), "the test never released the writer"

    writer.save(_state(), held)
    writer.save(_state(), later.append)  # queued behind the held one
    release.set()
    with pytest.raises(NotADirectoryError):
        writer.wait()
    assert later == []  # never written: it would have hidden the failure before it
