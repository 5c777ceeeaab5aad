"""How long `orchestrator resume` takes to reach its first codex step.

Builds a repository of 5,000 commits with `git fast-import` in which 99 of 100
milestones of a plan are done (99 commits with trailers, and a run state that
says so, interrupted in milestone 100), then runs `python -m orchestrator resume`
with a fake codex whose first action writes a timestamp. Prints the time from
starting the command to that timestamp (process start-up included) and, apart,
the interpreter's bare start-up and import time, so the orchestrator's own work
(lock, state, plan, git history, reconciliation) can be read off. Target: under
one second. Prints figures; asserts only correctness.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from orchestrator.store.state import MilestoneState, RunState, save_state, state_path

COMMITS = 5000
MILESTONES = 100
PLAN = ".agent/plans/big.md"
RUNS = 7
ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "CODEX_API_KEY": "bench-fake",  # the fake needs no login; the preflight asks for one
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
# The fake codex: a step records when it started, then waits (the orchestrator is
# stopped then); the preflight's `codex --version` is answered, not counted.
FAKE = f"""#!{sys.executable} -I
import os, sys, time
if "exec" not in sys.argv:
    print("codex-cli 0.169.0")
    raise SystemExit(0)
with open(os.environ["BENCH_STAMP"], "w") as f:
    f.write(repr(time.time()))
time.sleep(60)
"""


def plan_text() -> str:
    lines = ["# Big plan", "", "## Purpose / Big Picture", "", "Many milestones.", ""]
    lines += ["## Progress", ""]
    lines += [f"- [x] Milestone {i}: part {i}" for i in range(1, MILESTONES)]
    lines += [f"- [ ] Milestone {MILESTONES}: part {MILESTONES}", ""]
    lines += ["## Surprises & Discoveries", "", "None.", "", "## Decision Log", "", "None.", ""]
    lines += ["## Outcomes & Retrospective", "", "Not yet.", ""]
    lines += ["## Context and Orientation", "", "A big repository.", "", "## Plan of Work", ""]
    for i in range(1, MILESTONES + 1):
        lines += [f"### Milestone {i}: part {i}", "", f"Write part {i}.", ""]
        lines += ["```sh validate", f"test -f part{i}.txt", "```", ""]
    lines += ["## Concrete Steps", "", "Run it.", "", "## Validation and Acceptance", "", "Ok.", ""]
    return "\n".join(lines)


def _blob(path: str, content: bytes) -> bytes:
    return f"M 644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n"


def make_repo(root: Path) -> dict[str, str]:
    """5,000 commits; milestone m's commit is every 50th; returns milestone -> sha."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=ENV)
    every = COMMITS // MILESTONES
    chunks: list[bytes] = []
    for i in range(1, COMMITS + 1):
        m = i // every
        files = _blob(f"file{i % 50}.txt", f"line {i}\n".encode())
        if i == 1:
            files += _blob(PLAN, plan_text().encode())
        if i % every == 0 and 1 <= m < MILESTONES:
            msg = (
                f"big: milestone {m}: part {m}\n\nDone.\n\n"
                f"ExecPlan: {PLAN}\nMilestone: {m}\nAttempts: 1\nCodex-Thread: thread-{m}\n"
            )
            files += _blob(f"part{m}.txt", b"done\n")
        else:
            msg = f"ordinary commit {i}\n\nSome body text.\n"
        chunks.append(
            b"commit refs/heads/main\n"
            + f"mark :{i}\n".encode()
            + f"committer Bench <bench@example.invalid> {1_700_000_000 + i} +0000\n".encode()
            + f"data {len(msg)}\n".encode()
            + msg.encode()
            + b"\n"
            + files
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], input=b"".join(chunks), cwd=root, check=True, env=ENV
    )
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True, env=ENV)
    out = subprocess.run(
        ["git", "log", "--format=%H %(trailers:key=Milestone,valueonly)"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    ).stdout
    shas = {}
    for line in out.splitlines():
        sha, _, milestone = line.partition(" ")
        if milestone.strip():
            shas[milestone.strip()] = sha
    assert len(shas) == MILESTONES - 1, len(shas)
    return shas


def write_state(root: Path, shas: dict[str, str]) -> RunState:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    milestones = [
        MilestoneState(
            id=str(i), title=f"part {i}", status="passed", phase="committed", commit=shas[str(i)]
        )
        for i in range(1, MILESTONES)
    ]
    milestones.append(
        MilestoneState(id=str(MILESTONES), title=f"part {MILESTONES}", status="interrupted")
    )
    state = RunState(
        run_id="20260101-000000-beef",
        plan_path=PLAN,
        pinned_checks={str(i): [f"test -f part{i}.txt"] for i in range(1, MILESTONES + 1)}
        | {"plan": []},
        base_commit=head,
        branch="main",
        status="interrupted",
        milestones=milestones,
        current_milestone=str(MILESTONES),
    )
    save_state(state_path(root, state.run_id), state)
    excludes = root / ".git" / "info" / "exclude"
    excludes.parent.mkdir(parents=True, exist_ok=True)
    with excludes.open("a", encoding="utf-8") as f:
        f.write("/.agent/runs/\n")
    return state


def time_resume(root: Path, fake: Path, stamp: Path) -> float:
    """Seconds from starting `orchestrator resume` to the fake codex's first action."""
    stamp.unlink(missing_ok=True)
    env = {**ENV, "BENCH_STAMP": str(stamp), "ORCH_LOG__LIVE": "false"}
    argv = [sys.executable, "-m", "orchestrator", "-C", str(root), "-q", "resume", PLAN]
    began = time.time()
    proc = subprocess.Popen(
        [*argv, "--codex-bin", str(fake), "--no-review"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not stamp.exists() or not stamp.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"resume ended before its first step (rc {proc.returncode}): {err}")
        time.sleep(0.002)
    first_step = float(stamp.read_text())
    proc.send_signal(2)  # SIGINT: a graceful stop, the run stays resumable
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()
    return first_step - began


def time_in_process(root: Path, fake: Path, stamp: Path) -> float:
    """The same, called in this process (imports already paid): the orchestrator's own work."""
    from orchestrator.run.session import resume_run
    from orchestrator.settings.model import CodexSettings, LogSettings, LoopSettings, Settings

    stamp.unlink(missing_ok=True)
    os.environ["BENCH_STAMP"] = str(stamp)
    os.environ.setdefault("CODEX_API_KEY", "bench-fake")

    def interrupt_when_started() -> None:
        while not stamp.exists() or not stamp.read_text():
            time.sleep(0.002)
        os.kill(os.getpid(), signal.SIGINT)

    settings = Settings(
        codex=CodexSettings(binary=str(fake), kill_grace=1.0),
        loop=LoopSettings(review_gate=False),
        log=LogSettings(live=False, quiet=True),
    )
    threading.Thread(target=interrupt_when_started, daemon=True).start()
    began = time.time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = resume_run(
            repo=root, plan_path=Path(PLAN), run_id=None, rebuild=False, settings=settings
        )
    assert code == 130, code
    return float(stamp.read_text()) - began


def bare_startup() -> float:
    """Interpreter start-up plus importing the CLI's run path, no work."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import orchestrator.cli, orchestrator.run.session"], check=True
    )
    return time.perf_counter() - began


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        shas = make_repo(root)
        write_state(root, shas)
        print(
            f"built {COMMITS} commits ({MILESTONES - 1} milestone commits) in "
            f"{time.perf_counter() - t0:.2f} s"
        )
        fake = Path(tmp) / "codex"
        fake.write_text(FAKE, encoding="utf-8")
        fake.chmod(0o755)
        stamp = Path(tmp) / "stamp"
        samples, bare = [], []
        for _ in range(RUNS):  # interleaved, so both see the same machine load
            samples.append(time_resume(root, fake, stamp))
            bare.append(bare_startup())
        startup = statistics.median(bare)
        inside = statistics.median(time_in_process(root, fake, stamp) for _ in range(RUNS))
        median = statistics.median(samples)
        print(
            f"resume -> first codex step: median {median * 1000:.0f} ms, "
            f"min {min(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms "
            f"({RUNS} runs; target < 1000 ms)"
        )
        print(f"ratio to the target (1 s): {median:.2f}  (target < 1)")
        print(f"of which interpreter start-up + imports: {startup * 1000:.0f} ms (median)")
        print(f"in-process resume_run -> first codex step: median {inside * 1000:.0f} ms")


if __name__ == "__main__":
    main()
