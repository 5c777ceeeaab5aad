from __future__ import annotations

from datetime import datetime

from orchestrator.run.budget import Budget, next_deadline, start_invocation
from orchestrator.settings.model import BudgetSettings, RunSettings, Settings
from orchestrator.store.state import InvocationLimits, RunState
from orchestrator.ui.text import tokens_spent


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _local(hour: int, minute: int, day: int = 10) -> float:
    return datetime(2026, 3, day, hour, minute).timestamp()


def test_no_limits_never_stop() -> None:
    clock = Clock(1000.0)
    budget = Budget.from_settings(RunSettings(), started_at=1000.0, now=clock)
    clock.now += 10**7
    assert budget.stop_reason(10**9) is None
    assert budget.step_timeout(1800.0) == 1800.0


def test_max_wall() -> None:
    clock = Clock(0.0)
    budget = Budget.from_settings(
        RunSettings.model_validate({"max_wall": "2h"}), started_at=0.0, now=clock
    )
    clock.now = 7199.0
    assert budget.stop_reason(0) is None
    assert budget.step_timeout(1800.0) == 1.0
    clock.now = 6000.0
    assert budget.step_timeout(1800.0) == 1200.0
    clock.now = 7200.0
    assert budget.stop_reason(0) == "max-wall 2h reached"


def test_max_tokens() -> None:
    budget = Budget.from_settings(RunSettings(max_tokens=500000), started_at=0.0, now=Clock(0.0))
    assert budget.stop_reason(499_999) is None
    assert budget.stop_reason(500_000) == "max-tokens 500000 reached"


def test_deadline_is_the_next_occurrence() -> None:
    assert next_deadline("06:30", _local(22, 0)) == _local(6, 30, day=11)
    assert next_deadline("23:00", _local(22, 0)) == _local(23, 0)


def test_deadline_stops_new_milestones_but_grace_lets_a_running_one_finish() -> None:
    start = _local(22, 0)
    clock = Clock(start)
    run = RunSettings.model_validate({"deadline": "06:30", "deadline_grace": "15m"})
    budget = Budget.from_settings(run, started_at=start, now=clock)
    clock.now = _local(6, 29, day=11)
    assert budget.stop_reason(0) is None
    assert budget.step_timeout(1800.0) == 16 * 60
    clock.now = _local(6, 31, day=11)
    assert budget.stop_reason(0) == "deadline 06:30 passed"
    assert budget.stop_reason(0, in_milestone=True) is None
    assert budget.step_timeout(1800.0) == 14 * 60
    clock.now = _local(6, 45, day=11)
    assert budget.stop_reason(0, in_milestone=True) == "deadline 06:30 (+15m grace) passed"


def test_the_tightest_limit_clamps_a_step() -> None:
    start = _local(5, 0)
    clock = Clock(start)
    run = RunSettings.model_validate({"deadline": "06:00", "deadline_grace": 0, "max_wall": "30m"})
    budget = Budget.from_settings(run, started_at=start, now=clock)
    assert budget.step_timeout(3600.0) == 1800.0
    clock.now = start + 1700
    assert budget.step_timeout(3600.0) == 100.0


def test_max_tokens_bounds_one_invocation_total_tokens_the_whole_run() -> None:
    """A run that used 900 tokens on earlier nights gets a fresh --max-tokens tonight;
    --max-total-tokens counts them all."""
    run = RunSettings(max_tokens=500)
    budget = Budget.from_settings(
        run, started_at=0.0, now=Clock(0.0), tokens_at_start=900, total_tokens=2000
    )
    assert budget.stop_reason(900) is None
    assert budget.stop_reason(1399) is None
    assert budget.stop_reason(1400) == "max-tokens 500 reached"
    tight = Budget.from_settings(
        RunSettings(), started_at=0.0, now=Clock(0.0), tokens_at_start=900, total_tokens=1000
    )
    assert tight.stop_reason(999) is None
    assert tight.stop_reason(1000) == "max-total-tokens 1000 reached (the whole run)"


def test_an_invocation_records_its_limits_and_both_budgets_read_in_words() -> None:
    state = RunState(run_id="r", plan_path="p.md", tokens_total=900)
    settings = Settings(
        run=RunSettings(max_tokens=500, deadline="06:30"),
        budget=BudgetSettings(total_tokens=2000),
    )
    start_invocation(state, settings, started_at=0.0)
    assert state.limits == InvocationLimits(deadline="06:30", max_tokens=500, total_tokens=2000)
    state.tokens_total = 1400
    assert tokens_spent(state) == (
        "1,400 in the whole run (limit 2,000); 500 in the last invocation (limit 500)"
    )
    # a state saved before the limits were typed held them as a plain mapping
    old = RunState.model_validate(
        {"run_id": "r", "plan_path": "p.md", "limits": {"max_wall": 60.0, "max_tokens": None}}
    )
    assert old.limits == InvocationLimits(max_wall=60.0)
    assert tokens_spent(old) == "0 in the whole run; 0 in the last invocation"
