"""The durable life of one plan on the fleet (a Temporal workflow).

It claims a worker host (its work tree then lives there: later activities go to
that host's own task queue), and runs the plan there until it passes. A
needs-human stop waits for the ``answer`` signal; a usage limit becomes a
durable timer until the reset; a budget stop or any other stop ends the
workflow resumably (submitting the same plan again continues it). A killed
worker's activity is retried on the host's queue, and the run's own resume
makes each milestone happen once.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from orchestrator.fleet.contract import (
        ANSWER_SIGNAL,
        CLAIM_ACTIVITY,
        PROGRESS_QUERY,
        RUN_ACTIVITY,
        WORKFLOW_NAME,
        PlanInput,
        Progress,
        RunRequest,
        RunResult,
    )

NEEDS_HUMAN = 3


@workflow.defn(name=WORKFLOW_NAME)
class PlanWorkflow:
    def __init__(self) -> None:
        self._state = "starting"
        self._host: str | None = None
        self._runs = 0
        self._last: RunResult | None = None
        self._answer: str | None = None
        self._next = "wait: a worker picks it up"

    @workflow.run
    async def run(self, plan: PlanInput) -> RunResult:
        me = workflow.info().workflow_id
        self._host = await workflow.execute_activity(
            CLAIM_ACTIVITY,
            start_to_close_timeout=timedelta(minutes=1),
            task_queue=plan.task_queue,
            result_type=str,
        )
        answer: str | None = None
        while True:
            self._state, self._next = "running", "wait: the plan is running"
            self._runs += 1
            result: RunResult = await workflow.execute_activity(
                RUN_ACTIVITY,
                RunRequest(me, plan.repo, plan.plan, plan.branch, answer, plan.heartbeat_s),
                task_queue=self._host,
                start_to_close_timeout=timedelta(days=7),
                heartbeat_timeout=timedelta(seconds=plan.heartbeat_s),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    maximum_interval=timedelta(minutes=1),
                    maximum_attempts=20,
                ),
                result_type=RunResult,
            )
            self._last, answer = result, None
            if result.status == "passed":
                self._state = "passed"
                self._next = f"git fetch && git merge origin/{plan.branch}"
                return result
            if result.exit_code == NEEDS_HUMAN and self._runs < plan.max_runs:
                self._state = "needs_human"
                self._next = f'orchestrator fleet answer {me} "YOUR ANSWER"'
                await workflow.wait_condition(lambda: self._answer is not None)
                answer, self._answer = self._answer, None
                continue
            if result.status == "usage_limit" and result.resume_at and self._runs < plan.max_runs:
                self._state = "usage_limit"
                # codex says the reset time cut to the minute: it comes within the minute after.
                wait = max(1.0, result.resume_at + 60 - workflow.now().timestamp())
                self._next = f"wait: the usage limit resets in {wait:.0f}s"
                await workflow.sleep(timedelta(seconds=wait))
                continue
            self._state = result.status
            self._next = f"orchestrator submit --repo {plan.repo} --plan {plan.plan}"
            return result

    @workflow.signal(name=ANSWER_SIGNAL)
    def answer(self, text: str) -> None:
        self._answer = text

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> Progress:
        return Progress(self._state, self._host, self._runs, self._last, self._next)
