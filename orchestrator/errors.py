"""The project's one error hierarchy and its documented exit codes.

Every expected failure derives from :class:`OrchestratorError`; the CLI's
error boundary prints its message (one paragraph, no traceback) and exits
with its ``exit_code``. The table in ``EXIT_CODES`` is the one the README
documents; a test compares the two.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """How a command ended. Stable: scripts, cron and CI depend on these."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    NEEDS_HUMAN = 3
    GAVE_UP = 4
    LOCKED = 75
    INTERRUPTED = 130
    TERMINATED = 143


EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "done: every milestone passed (or the command succeeded)",
    ExitCode.INTERNAL: "unexpected internal error; a crash log path is printed",
    ExitCode.USAGE: "usage, configuration or plan error; nothing was changed",
    ExitCode.NEEDS_HUMAN: "stopped: the next decision needs a human (see NEEDS_HUMAN.md)",
    ExitCode.GAVE_UP: "gave up: max attempts reached or the remaining delta stopped changing",
    ExitCode.LOCKED: "another run holds the repository lock",
    ExitCode.INTERRUPTED: "interrupted by SIGINT; the run is resumable",
    ExitCode.TERMINATED: "stopped by SIGTERM or SIGHUP; the run is resumable",
}


class OrchestratorError(Exception):
    """An expected failure with a message for people and an exit code."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(OrchestratorError):
    """Bad command-line usage."""


class PlanError(OrchestratorError):
    """The ExecPlan file cannot be read or is not runnable."""


class ConfigError(OrchestratorError):
    """A setting is invalid; the message names its source."""


class StateError(OrchestratorError):
    """The run state is missing, corrupt or inconsistent."""


class StateTamperedError(StateError):
    """A run state that something other than the orchestrator changed (see store/seal.py)."""

    def __init__(self, message: str, *, plan_path: str | None = None) -> None:
        super().__init__(message)
        self.plan_path = plan_path


class LockHeldError(OrchestratorError):
    """Another run holds the repository lock."""

    exit_code = ExitCode.LOCKED


class GitError(OrchestratorError):
    """The target repository is not in a state we can work in."""


class SetupError(OrchestratorError):
    """The machine is not ready for a run (a program, identity or credential is missing).

    Raised before any model request, or when a check cannot even start; nothing
    is left that blocks the next start.
    """


class InternalError(OrchestratorError):
    """An unexpected error the run recorded (state, report, crash log) before stopping."""

    exit_code = ExitCode.INTERNAL


def expected_error(exc: BaseException) -> OrchestratorError | None:
    """The :class:`OrchestratorError` ``exc`` stands for, looking inside exception groups.

    Errors raised inside an anyio task group arrive wrapped in an ``ExceptionGroup``;
    the first expected error found (depth first) keeps its meaning and exit code.
    """
    if isinstance(exc, OrchestratorError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = expected_error(inner)
            if found is not None:
                return found
    return None


def interrupt_in(exc: BaseException) -> BaseException | None:
    """A KeyboardInterrupt (or other non-Exception) inside ``exc``, groups included."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = interrupt_in(inner)
            if found is not None:
                return found
        return None
    return None if isinstance(exc, Exception) else exc
