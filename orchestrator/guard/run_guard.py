"""Everything one run guards, checked at once after each codex step and validation.

:class:`RunGuard` puts back what the agent or a check must not change and says
what it was: the orchestrator's inputs (:mod:`~orchestrator.guard.inputs`), the
refs (:mod:`~orchestrator.guard.refs`) and the run state file, which must be
byte for byte what this process last saved and match its seal under ``.git``.
Every guard runs even when an earlier one found something, so all is restored.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import wait
from pathlib import Path
from typing import TypeVar

import structlog

from orchestrator.guard.inputs import InputsKeeper
from orchestrator.guard.refs import RefGuard
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.git_calls import side_by_side
from orchestrator.store.seal import seal_problem

log = structlog.get_logger()
T = TypeVar("T")


class RunGuard:
    """The inputs, refs and state file of one run, as the orchestrator left them."""

    def __init__(
        self,
        repo: Repo,
        settings: Settings,
        *,
        run_id: str,
        plan_rel: str,
        config_file: Path | None,
        state_file: Path,
        rewrite_state: Callable[[], None],
        wait_saved: Callable[[], None] = lambda: None,
    ) -> None:
        self.inputs = InputsKeeper.for_run(
            repo.root, settings, plan_rel=plan_rel, config_file=config_file
        )
        self.refs = RefGuard(repo, run_id)
        self.state_file = state_file
        self.evidence = state_file.parent / "guard"
        self.saved: bytes | None = None  # the state file as this process last wrote it
        self._rewrite_state = rewrite_state
        self._wait_saved = wait_saved  # a save still being written (while refs are compared)
        self._found: str | None = None  # a change noticed just before a save overwrote it

    def check(self, who: str) -> str | None:
        """None if nothing was touched; else restore everything and say what it was."""
        return self.check_with(who, None)[0]

    def check_with(
        self, who: str, alongside: Callable[[], T] | None
    ) -> tuple[str | None, T | None]:
        """:meth:`check`, and ``alongside()`` (a git query) run while the refs are
        compared: once git's own configuration and hooks are known to be as they were,
        since every git command obeys them. When the refs had to be put back, the query
        runs again after that, on the refs as the orchestrator left them."""
        found = [self.inputs.check_and_restore(who, self.evidence)]
        side = side_by_side(alongside) if alongside is not None else None
        try:
            found.append(self.refs.check_and_restore(who, self.evidence))
        finally:
            if side is not None:
                wait([side])  # its git is done before anything else runs
        self._wait_saved()
        found.append(self._state_intact(who))
        result: T | None = None
        if alongside is not None and side is not None:
            result = alongside() if found[1] else side.result()
        return "\n\n".join(v for v in found if v) or None, result

    def _read_state(self) -> bytes:
        try:
            return self.state_file.read_bytes()
        except OSError:
            return b""

    def before_save(self, written: bytes | None) -> None:
        """A save is about to overwrite the file, which should hold ``written`` (the last
        save on disk): notice an edit before it is overwritten (the loop saves right
        after a validation). Runs on the state writer's thread, before each write."""
        if written is not None and self._found is None and self._read_state() != written:
            self._found = "its content changed"

    def _state_intact(self, who: str) -> str | None:
        if self.saved is None:
            return None
        found = self._read_state()
        problem = self._found or (
            seal_problem(self.state_file, found) if found == self.saved else "its content changed"
        )
        self._found = None
        if problem is None:
            return None
        self._rewrite_state()
        log.warning("state_edit_reverted", by=who, problem=problem)
        return (
            f"{who} changed the run state {self.state_file} ({problem}); only the "
            "orchestrator writes it, and its own copy was written back"
        )
