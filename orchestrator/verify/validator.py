"""The verifying validator: the loop's ``ctx.validator`` (and ``ctx.baseline``) port.

Each round: the candidate tree (what the commit would hold) with the
checkpoint's protected files is checked out into a separate copy outside the
repository; every check runs there, under codex's sandbox when it works,
with our pytest plugin counting tests; the verdict of each check weighs its
exit code, the counted tests and the milestone's baseline; the linked
environment's start-up hooks, the weakening analysis of changed protected
files and the hidden acceptance checks add records of their own. See
docs/verification.md for the layers and what each catches.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from orchestrator.codex.argv import codex_binary
from orchestrator.errors import ConfigError, GitError
from orchestrator.milestone.ports import shell_validator
from orchestrator.milestone.services import not_run, services_up
from orchestrator.milestone.validation import run_check
from orchestrator.paths import verify_cache
from orchestrator.plan.model import Check
from orchestrator.settings.model import Settings
from orchestrator.store.git import Repo
from orchestrator.store.state import CheckRecord, VerifyFacts
from orchestrator.verify.candidate import Verdict, build_verdict
from orchestrator.verify.counting import probe_env, pytest_counts
from orchestrator.verify.environment import startup_hooks, tampered_hooks
from orchestrator.verify.holdout import HoldoutCheck, holdout_log_dir, load_holdout
from orchestrator.verify.judge import judge
from orchestrator.verify.protect import Pattern
from orchestrator.verify.sandbox import native_codex, probe_sandbox, sandbox_argv
from orchestrator.verify.weakening import analyse_changes

if TYPE_CHECKING:
    from orchestrator.milestone.agent_step import StepContext

log = structlog.get_logger()

_TESTS_CHANGE = re.compile(
    r"(?im)^\s*(?:[-*]\s*)?(?:\*\*)?changes tests(?:\*\*)?\s*:\s*(?:\*\*)?\s*yes\b"
    r"|<!--\s*verify:\s*tests-change\s*-->"
)
HIDDEN_FAILED = "a hidden acceptance check failed for milestone {milestone}"


def plan_changes_tests(milestone_body: str) -> bool:
    """The plan says this milestone changes its tests (``Changes tests: yes``)."""
    return _TESTS_CHANGE.search(milestone_body) is not None


def scratch_root(repo_root: Path, run_id: str) -> Path:
    """The run's scratch directory, outside the repository and out of the agent's reach.

    Under the user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``), which a codex
    step cannot write: the system temporary directory can be written by the agent, which
    could plant a ``pytest.ini`` or ``conftest.py`` above the copy or a symbolic link at its
    predictable path. When the cache directory cannot be made, the temporary directory is
    used, with a warning.
    """
    digest = hashlib.sha256(str(repo_root.resolve()).encode()).hexdigest()[:10]
    try:
        base = verify_cache()
    except OSError as exc:
        log.warning("verify_scratch_in_tmp", reason=str(exc))
        base = Path(tempfile.gettempdir()) / f"orchestrator-verify-{os.getuid()}"
    return base / f"{digest}-{run_id}"


def _facts(ctx: StepContext) -> VerifyFacts:
    if ctx.ms.verify is None:
        ctx.ms.verify = VerifyFacts(tests_may_change=plan_changes_tests(ctx.milestone.body))
    return ctx.ms.verify


def _extra(check_id: str, note: str, *, command: str = "(verification)") -> CheckRecord:
    return CheckRecord(
        check_id=check_id,
        command=command,
        exit_code=None,
        passed=False,
        ended="exited",
        duration_s=0.0,
        output_tail=note,
        notes=[note],
    )


class Verifier:
    """Runs a run's checks over verdict trees; one instance per run."""

    def __init__(self, *, repo: Repo, run_id: str, settings: Settings) -> None:
        self.repo = repo
        self.run_id = run_id
        self.settings = settings
        self.verify = settings.verify
        self.scratch = scratch_root(repo.root, run_id)
        from orchestrator.verify.workcopy import WorkCopy

        self.copy = WorkCopy(repo, self.scratch / "tree", self.verify.environment_dirs)
        self.patterns = [
            Pattern.parse(p) for p in [*self.verify.protected, *self.verify.extra_protected]
        ]
        self.holdout: list[HoldoutCheck] = (
            load_holdout(self.verify.holdout_checks, repo.root)
            if self.verify.holdout_checks
            else []
        )
        self._sandbox: str | None = None
        self._probed = False
        self._round = 0

    # -- the sandbox ----------------------------------------------------------------------

    async def _sandbox_codex(self) -> str | None:
        """The codex binary whose sandbox works, or None (then checks run unsandboxed)."""
        if self._probed:
            return self._sandbox
        self._probed = True
        if self.verify.sandbox == "off":
            log.warning("verify_sandbox_off", detail="checks run without codex's sandbox")
            return None
        codex = codex_binary(self.settings.codex)
        native = native_codex(codex)
        if native is not None and await probe_sandbox(native, self.copy.root) is None:
            self._sandbox = native
            return native
        problem = await probe_sandbox(codex, self.copy.root)
        if problem is None:
            self._sandbox = codex
            return codex
        if self.verify.sandbox == "codex":
            raise ConfigError(
                f'verify.sandbox = "codex" but {problem}; install a codex that has '
                '`codex sandbox`, or set verify.sandbox = "auto" to run checks unsandboxed'
            )
        log.warning("verify_sandbox_unavailable", problem=problem, fallback="no sandbox")
        return None

    # -- one pass of checks ---------------------------------------------------------------

    async def _run(
        self,
        checks: list[Check],
        *,
        log_dir: Path | None,
        label: str,
        hidden_names: bool = False,
        network: bool = False,
    ) -> list[tuple[CheckRecord, Path]]:
        codex = await self._sandbox_codex()
        if network and codex is not None:
            # the sandbox closes the network, loopback included: checks that talk to a
            # declared service run without it (the service itself never runs sandboxed)
            log.warning("verify_sandbox_skipped_for_services", label=label)
            codex = None
        out: list[tuple[CheckRecord, Path]] = []
        for check in checks:
            self._round += 1
            results = self.scratch / "results" / f"{self._round:04d}-{label}"
            results.mkdir(parents=True, exist_ok=True)
            tmp = self.scratch / "tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            env = {"TMPDIR": str(tmp)}
            if self.verify.count_tests:
                env.update(probe_env(results, os.environ))

            def wrap(
                argv: list[str],
                codex: str | None = codex,
                writable: tuple[Path, ...] = (tmp, results),
            ) -> list[str]:
                if codex is None:
                    return argv
                return sandbox_argv(codex, self.copy.root, argv, writable)

            record = await run_check(
                check,
                cwd=self.copy.root,
                settings=self.settings.checks,
                log_dir=log_dir,
                wrap=wrap,
                env=env,
                transcript_name="(hidden acceptance check)" if hidden_names else None,
            )
            out.append((CheckRecord.model_validate(record.model_dump()), results))
        return out

    def _checkout(self, tree: str) -> None:
        self.copy.checkout(tree)

    def _judge(
        self, record: CheckRecord, results: Path, base: CheckRecord | None, may_change: bool
    ) -> CheckRecord:
        if not self.verify.count_tests:
            return record
        return judge(record, pytest_counts(results), baseline=base, tests_may_change=may_change)

    # -- the ports -------------------------------------------------------------------------

    async def baseline(self, ctx: StepContext) -> str | None:
        """Run the milestone's checks on its checkpoint; a needs-human reason or None."""
        facts = _facts(ctx)
        if facts.baseline is not None or not self.verify.baseline:
            return None
        checkpoint = ctx.ms.checkpoint or self.repo.head()
        facts.environment = startup_hooks(self.repo.root, self.verify.environment_dirs)
        await self.repo.call(self.copy.checkout_commit, checkpoint)
        log_dir = ctx.run_dir / "checks" / f"m{ctx.milestone.id}-baseline"
        ran = await self._run(list(ctx.checks), log_dir=log_dir, label="baseline")
        records = [self._judge(r, res, None, True) for r, res in ran]
        facts.baseline = records
        ctx.save()
        all_green = bool(records) and all(r.passed for r in records)
        log.info(
            "verify_baseline",
            milestone=ctx.milestone.id,
            passed=sum(r.passed for r in records),
            checks=len(records),
        )
        if all_green and self.verify.require_red_first:
            return (
                f"every check of milestone {ctx.milestone.id} already passes at its checkpoint, "
                "so passing them proves nothing (verify.require_red_first = true): add a check "
                "that fails until the milestone is done, or turn the setting off"
            )
        return None

    async def __call__(self, ctx: StepContext, log_dir: Path) -> list[CheckRecord]:
        """One validation round over the verdict tree."""
        if self.verify.isolation == "in_place":
            return list(await shell_validator(ctx, log_dir))
        facts = _facts(ctx)
        checkpoint = ctx.ms.checkpoint or self.repo.head()
        commands = [c.command for c in ctx.checks]

        def build_and_checkout() -> Verdict:  # one trip to a worker thread, not two
            verdict = build_verdict(
                self.repo,
                checkpoint=checkpoint,
                patterns=self.patterns,
                commands=commands,
                overlay=not facts.tests_may_change,
            )
            self._checkout(verdict.tree)
            return verdict

        try:
            verdict = await self.repo.call(build_and_checkout)
        except GitError as exc:
            return [_extra("verify.tree", f"the verdict tree could not be built: {exc.message}")]
        baseline = {r.check_id: r for r in facts.baseline or []}
        shell = ctx.settings.checks.shell
        async with services_up(
            ctx.services, cwd=self.copy.root, shell=shell, log_dir=log_dir
        ) as down:
            if down:
                return not_run(ctx.checks, down)
            ran = await self._run(
                list(ctx.checks), log_dir=log_dir, label="round", network=bool(ctx.services)
            )
        records = [
            self._judge(r, res, baseline.get(r.check_id), facts.tests_may_change) for r, res in ran
        ]
        facts.sandboxed = self._sandbox is not None and not ctx.services
        facts.changed_protected = verdict.changed_protected
        facts.weakening = analyse_changes(self.repo, checkpoint, verdict)
        records += self._guards(ctx, facts)
        if all(r.passed for r in records):
            records += await self._hidden(ctx)
        return records

    def _guards(self, ctx: StepContext, facts: VerifyFacts) -> list[CheckRecord]:
        extra: list[CheckRecord] = []
        tampered = tampered_hooks(self.repo.root, facts.environment, self.verify.environment_dirs)
        if tampered:
            extra.append(
                _extra(
                    "verify.environment",
                    "start-up hooks appeared or changed in the environment since the milestone "
                    f"started: {', '.join(tampered)}; the environment is not the milestone's "
                    "to change (remove them; a person installs dependencies)",
                )
            )
        if facts.weakening and not facts.tests_may_change:
            extra.append(
                _extra(
                    "verify.protected",
                    "the change weakens the checks that judge it (they ran with the "
                    "checkpoint's versions of the protected files, and the plan does not say "
                    "this milestone changes its tests): "
                    + "; ".join(facts.weakening)
                    + ". Undo those changes.",
                )
            )
        if facts.weakening and facts.tests_may_change and not ctx.review_gate:
            extra.append(
                _extra(
                    "verify.protected",
                    "the change weakens the tests (" + "; ".join(facts.weakening) + "); the "
                    "plan lets this milestone change tests, but a weakening passes only with "
                    "the reviewer's explicit approval, and the review gate is off",
                )
            )
        return extra

    async def _hidden(self, ctx: StepContext) -> list[CheckRecord]:
        mine = [h for h in self.holdout if h.milestone in (None, ctx.milestone.id)]
        if not mine:
            return []
        assert self.verify.holdout_checks is not None
        checks = [
            Check(id=f"hidden.{i}", command=h.command, line=0, milestone=ctx.milestone.id)
            for i, h in enumerate(mine, 1)
        ]
        where = holdout_log_dir(self.verify.holdout_checks, self.run_id)
        where.mkdir(parents=True, exist_ok=True)
        ran = await self._run(checks, log_dir=where, label="hidden", hidden_names=True)
        out = []
        message = HIDDEN_FAILED.format(milestone=ctx.milestone.id)
        for record, results in ran:
            judged = self._judge(record, results, None, True)
            log.info("verify_hidden_check", check=record.check_id, passed=judged.passed)
            out.append(
                CheckRecord(
                    check_id=record.check_id,
                    command="(hidden acceptance check)",
                    exit_code=None if not judged.passed else 0,
                    passed=judged.passed,
                    ended="exited",
                    duration_s=record.duration_s,
                    output_tail="" if judged.passed else message,
                    notes=[] if judged.passed else [message],
                )
            )
        return out

    def close(self) -> None:
        """Remove the scratch directory (the copy and the counted results)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
