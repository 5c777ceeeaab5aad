"""The ``codex exec`` command line for one step.

Order matters (observed on 0.169.0): ``-s``, ``-C``, ``--add-dir`` and ``-p``
are rejected after ``resume`` (rc 2), so every exec-level option goes before
it; ``--json``, ``-m``, ``-c``, ``-o``, ``--output-schema`` and
``--skip-git-repo-check`` go after it (``-m`` and ``-s`` are not inherited by a
resumed thread, so both are passed every time). The prompt goes last, after
``--``, so a prompt such as ``review`` is never taken for a subcommand; a
prompt too long for one argument goes on stdin (fresh steps only).
"""

from __future__ import annotations

from orchestrator.codex.step import StepRequest
from orchestrator.paths import find_codex, in_git_work_tree
from orchestrator.settings.model import CodexSettings

# Linux caps one argument at 128 KiB (MAX_ARG_STRLEN); stay well below it.
MAX_ARG_PROMPT_BYTES = 100_000
ALWAYS_DISABLED = ("unbounded_connection_retries",)


def codex_binary(settings: CodexSettings) -> str:
    """The configured codex, else the pinned project-local install, else ``codex`` on PATH."""
    return find_codex(settings.binary) or "codex"


def prompt_on_stdin(request: StepRequest) -> bool:
    """Whether the prompt is sent on stdin (``-``) instead of as an argument."""
    return (
        request.resume_thread is None and len(request.prompt.encode("utf-8")) > MAX_ARG_PROMPT_BYTES
    )


def stdin_bytes(request: StepRequest) -> bytes | None:
    """What the child's stdin carries: the prompt, or nothing (closed at once)."""
    return request.prompt.encode("utf-8") if prompt_on_stdin(request) else None


def build_argv(request: StepRequest, settings: CodexSettings) -> list[str]:
    """The full argv of one ``codex exec`` invocation (fresh or resumed)."""
    argv = [codex_binary(settings), "exec", "-s", request.sandbox, "-C", str(request.cwd)]
    if settings.profile:
        argv += ["-p", settings.profile]
    for feature in ALWAYS_DISABLED:
        argv += ["--disable", feature]
    argv += settings.extra_args
    if request.resume_thread is not None:
        argv += ["resume", request.resume_thread]
    argv.append("--json")
    if settings.model:
        argv += ["-m", settings.model]
    for override in settings.config_overrides:
        argv += ["-c", override]
    if request.output_schema is not None:
        argv += ["--output-schema", str(request.output_schema)]
    if request.last_message is not None:
        argv += ["-o", str(request.last_message)]
    if not in_git_work_tree(request.cwd):
        argv.append("--skip-git-repo-check")
    if prompt_on_stdin(request):
        argv.append("-")
    else:
        argv += ["--", request.prompt]
    return argv
