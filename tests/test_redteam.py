"""The red-team suite: every tactic caught, every legitimate control committed.

Real codex binary, scripted model, real git, a real `.venv`; see tests/redteam.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.redteam import ALL, Case, run_case

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_redteam_case(case: Case, tmp_path: Path, codex_bin: Path) -> None:
    outcome = run_case(case, tmp_path, codex_bin)
    assert outcome.ok, f"{case.name}: {outcome.detail}"


def test_without_the_sandbox_a_forged_commit_lands_and_is_seen(
    tmp_path: Path, codex_bin: Path
) -> None:
    """The harness can fail: with the sandbox off, a check process forges a milestone commit
    (with our trailers) and the harness reports it; under the sandbox it cannot."""
    case = next(c for c in ALL if c.name == "check-forges-a-commit")
    outcome = run_case(case, tmp_path, codex_bin, sandbox="off")
    assert not outcome.ok
    assert "a forged commit exists" in outcome.detail
