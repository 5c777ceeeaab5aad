"""Running a check inside codex's own sandbox (``codex sandbox``).

The built-in ``:workspace`` profile leaves all of ``/tmp`` writable, and a
repository may live there; so checks run under a permission profile of our
own, given with ``-c``: the whole file system readable, writable only the
workspace (the verification copy) and the directories we name (the check's
own temporary directory, the directory its test counts go to), the copy's
``.git`` read-only. The repository, its ``.git``, ``.agent/`` and the plan are
therefore out of reach, the network is closed, and the check runs in a PID
namespace of its own: when it ends, every process it started ends with it,
double-forked daemons included. Whether the sandbox works here is probed once
per codex binary by a command that must be able to write its workspace and
must fail to write ``.git``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from orchestrator.process import Ended

_PROBE = (
    "echo ok > .orch-sandbox-probe || exit 7\n"
    "if (echo x > .git/orch-sandbox-probe) 2>/dev/null; then exit 9; fi\n"
    "if (echo x > ../.orch-sandbox-probe) 2>/dev/null; then exit 9; fi\n"
    "exit 0\n"
)


PROFILE = "orchestrator_verify"
PROBE_TIMEOUT = 60.0


def _toml(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def sandbox_argv(
    codex: str, workspace: Path, argv: list[str], writable: Sequence[Path] = ()
) -> list[str]:
    """``argv`` wrapped to run under the sandbox: ``workspace`` and ``writable`` writable."""
    entries = ['":root"="read"', '":workspace_roots"="write"']
    entries.append(f'{_toml(str(workspace / ".git"))}="read"')
    entries += [f'{_toml(str(p))}="write"' for p in writable]
    profile = f"permissions.{PROFILE}.filesystem={{{', '.join(entries)}}}"
    return [codex, "sandbox", "-c", profile, "-P", PROFILE, "-C", str(workspace), "--", *argv]


_PROBED: dict[str, str | None] = {}


def native_codex(codex: str) -> str | None:
    """The native binary behind codex's npm launcher (a node script), when there is one:
    starting it directly saves node's start-up on every check (0.15-0.3 s)."""
    path = shutil.which(codex) or codex
    try:
        real = Path(path).resolve()
        with real.open("rb") as f:
            if b"node" not in f.readline():
                return None  # already native (or not a launcher we know)
    except OSError:
        return None
    scope = real.parent.parent.parent  # node_modules/@openai/codex/bin/codex.js
    for candidate in sorted(scope.glob("codex-*/vendor/*/bin/codex")):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


async def probe_sandbox(codex: str, workspace: Path) -> str | None:
    """None when the sandbox works over ``workspace`` (a directory with a ``.git``),
    else the reason it does not. Asked once per codex binary and process."""
    if codex not in _PROBED:
        _PROBED[codex] = await _probe(codex, workspace)
    return _PROBED[codex]


def remember_probe(codex: str, problem: str | None) -> None:
    """The answer of a probe of ``codex`` made ahead over another workspace (see
    :mod:`orchestrator.run.head_start`), as if :func:`probe_sandbox` had asked it."""
    _PROBED.setdefault(codex, problem)


def probe_argv(codex: str, workspace: Path) -> list[str]:
    """The probe's command line: run it with ``workspace`` as its directory."""
    return sandbox_argv(codex, workspace, ["sh", "-c", _PROBE])


async def _probe(codex: str, workspace: Path) -> str | None:
    from orchestrator.process.child import ProcessRequest, run_process

    outcome = await run_process(
        ProcessRequest(
            argv=probe_argv(codex, workspace),
            cwd=workspace,
            timeout=PROBE_TIMEOUT,
            kill_grace=1.0,
        )
    )
    return probe_verdict(
        codex, workspace, outcome.ended, outcome.exit_code, outcome.stdout_tail, outcome.stderr_tail
    )


def probe_verdict(
    codex: str, workspace: Path, ended: Ended, exit_code: int | None, stdout: str, stderr: str
) -> str | None:
    """Judge a finished probe over ``workspace`` (and clear what it wrote): None when the
    sandbox works, else why not."""
    marker = workspace / ".orch-sandbox-probe"
    leak = workspace / ".git" / "orch-sandbox-probe"
    outside = workspace.parent / ".orch-sandbox-probe"
    wrote = marker.exists()
    leaked = leak.exists() or outside.exists()
    for path in (marker, leak, outside):
        path.unlink(missing_ok=True)
    if ended == "not_found":
        return f"{codex!r} could not be started"
    if exit_code == 0 and wrote and not leaked:
        return None
    detail = (stderr or stdout).strip().splitlines()
    why = detail[-1] if detail else f"exit {exit_code}"
    if leaked:
        why = "a sandboxed command could write outside its workspace"
    return f"`{codex} sandbox` does not work here ({why})"
