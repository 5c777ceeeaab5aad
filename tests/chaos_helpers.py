"""Crash tests' building blocks: a 5-milestone plan for the fake codex, the orchestrator as
a real subprocess in its own session, kill points read from the run state, the
processes a trial left behind, and the final consistency checks against git.

Every process a trial starts carries ``CHAOS_TAG=<unique>`` in its environment (codex
and the commands it runs inherit it), so leftovers are found by environment, not by
name: a pid that is reused by an unrelated program is never counted.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from orchestrator.plan import load_plan
from orchestrator.store.state import RunState, list_runs, load_state
from tests import supervisor_helpers as base
from tests.conftest import git as git  # the one git() helper
from tests.supervisor_helpers import step_answer as step_answer

PLAN_REL = ".agent/plans/chaos.md"
MILESTONES = 5
TAG_VAR = "CHAOS_TAG"
# Settings for every orchestrator process of a trial (ORCH_<SECTION>__<KEY>).
FAST_SETTINGS = {
    "ORCH_CODEX__RETRIES": "3",
    "ORCH_CODEX__RETRY_INITIAL_WAIT": "0.05",
    "ORCH_CODEX__RETRY_MAX_WAIT": "0.2",
    "ORCH_CODEX__KILL_GRACE": "2",
    "ORCH_CODEX__STEP_TIMEOUT": "60",
    "ORCH_LOOP__REVIEW_GATE": "false",
    "ORCH_LOG__LIVE": "false",
}


def plan_text(milestones: int = MILESTONES, checks: dict[int, str] | None = None) -> str:
    """An ExecPlan whose milestone N is done when ``mN.txt`` exists (or ``checks[N]``)."""
    files = [
        (f"file {i}", [(checks or {}).get(i, f"test -f m{i}.txt")])
        for i in range(1, milestones + 1)
    ]
    return base.plan_text(files, title="Chaos plan")


def rule(
    name: str,
    contains: str,
    *commands: str,
    answer: dict[str, Any] | None = None,
    fault: dict[str, Any] | None = None,
    times: int | None = None,
) -> dict[str, Any]:
    """A scenario rule for the fake codex: turns whose prompt contains ``contains``."""
    return base.rule(
        name,
        contains=contains,
        commands=commands,
        answer=answer or step_answer(name),
        fault=fault,
        times=times,
    )


def implement(milestone: int, *commands: str, **kwargs: Any) -> dict[str, Any]:
    """A rule for milestone ``milestone``'s implement step."""
    name = kwargs.pop("name", f"implement-{milestone}")
    return rule(name, f"step=implement milestone={milestone} ", *commands, **kwargs)


def chaos_rules(milestones: int = MILESTONES) -> list[dict[str, Any]]:
    """Each implement step writes its file and records its shell's pid."""
    return [
        implement(i, f"echo $$ >> .git/chaos-pids; echo {i} > m{i}.txt")
        for i in range(1, milestones + 1)
    ]


@dataclass
class Trial:
    """One scratch repository with a plan, a scenario and a tag for its processes."""

    root: Path
    repo: Path
    scenario: Path
    fake: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **FAST_SETTINGS,
            **self.extra_env,
            "FAKE_CODEX_SCENARIO": str(self.scenario),
            "LEAN_CODEX_THREADS": str(self.root / "threads"),
            TAG_VAR: self.tag,
        }

    def argv(self, command: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "orchestrator",
            "-C",
            str(self.repo),
            "-q",
            command,
            PLAN_REL,
            "--codex-bin",
            str(self.fake),
        ]

    def start(self, command: str | None = None) -> subprocess.Popen[bytes]:
        """``run`` the plan, or ``resume`` it once a run state exists; in its own session."""
        if command is None:
            command = "resume" if self.runs() else "run"
        out = (self.root / "orchestrator.log").open("ab")
        with out:
            out.write(f"--- {command}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                self.argv(command),
                cwd=self.repo,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def cleanup(self) -> None:
        """Kill whatever of this trial still runs and reap the processes it started."""
        kill_all(tagged(self.tag))
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)

    def runs(self) -> list[RunState]:
        return list_runs(self.repo)

    def threads(self) -> set[str]:
        """Thread ids either fake codex handed out."""
        found: set[str] = set()
        lean = self.root / "threads"
        if lean.exists():
            found |= set(lean.read_text(encoding="utf-8").split())
        state_file = self.scenario.with_name(self.scenario.name + ".state.json")
        if state_file.exists():
            data = json.loads(state_file.read_text(encoding="utf-8"))
            found |= set(data.get("threads", {}))
        return found

    def output(self) -> str:
        return (self.root / "orchestrator.log").read_text(encoding="utf-8", errors="replace")


def new_trial(
    base: Path,
    fake: Path,
    rules: list[dict[str, Any]] | None = None,
    *,
    milestones: int = MILESTONES,
    checks: dict[int, str] | None = None,
) -> Trial:
    """A repository with the committed plan and a scenario for the fake codex."""
    base.mkdir(parents=True)
    repo = base / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# scratch\n", encoding="utf-8")
    plan = repo / PLAN_REL
    plan.parent.mkdir(parents=True)
    plan.write_text(plan_text(milestones, checks), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    scenario = base / "scenario.json"
    scenario.write_text(json.dumps({"rules": rules or chaos_rules()}), encoding="utf-8")
    return Trial(root=base, repo=repo, scenario=scenario, fake=fake)


def invocations(trial: Trial) -> list[dict[str, Any]]:
    """The shared fake codex's record of its invocations (rule, prompt, resumed, thread)."""
    return base.invocations(trial.scenario)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` every 20 ms until it is true; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


# -- where a kill lands ---------------------------------------------------------------------


def _last_event(events: Path) -> str:
    try:
        with events.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            tail = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "none"
    for line in reversed(tail):
        try:
            return str(json.loads(line).get("event", "?"))
        except ValueError:
            continue
    return "none"


def kill_point(trial: Trial, pid: int) -> str:
    """Where process ``pid``'s run stands, from the state file and event log:
    ``phase/last event``; ``startup`` until ``pid`` has claimed the run state."""
    runs_dir = trial.repo / ".agent" / "runs"
    dirs = sorted(runs_dir.iterdir()) if runs_dir.is_dir() else []
    if not dirs:
        return "startup/none"
    newest = dirs[-1]
    try:
        state = load_state(newest / "state.json")
    except Exception:  # a state mid-write is still a kill point worth naming
        return "no-state/none"
    if state.pid != pid:
        return "startup/none"
    event = _last_event(newest / "events.jsonl")
    if state.status != "running":
        return f"{state.status}/{event}"
    current = next((m for m in state.milestones if m.id == state.current_milestone), None)
    if current is None:
        return f"between-milestones/{event}"
    return f"{current.phase or 'implementing'}/{event}"


@dataclass
class Tally:
    """Kill points and outcomes over many trials, printed as histograms."""

    phases: collections.Counter[str] = field(default_factory=collections.Counter)
    events: collections.Counter[str] = field(default_factory=collections.Counter)
    exits: collections.Counter[str] = field(default_factory=collections.Counter)
    trials: int = 0
    kills: int = 0
    shells: int = 0
    stop_latency: list[float] = field(default_factory=list)

    def add_kill(self, point: str) -> None:
        phase, _, event = point.partition("/")
        self.kills += 1
        self.phases[phase] += 1
        self.events[event] += 1

    def render(self, title: str, seconds: float) -> str:
        lines = [
            f"{title}: {self.trials} trials, {self.kills} kills, "
            f"{self.shells} codex command shells, {seconds:.1f} s",
            "  kill points by phase:      " + _hist(self.phases),
            "  kill points by last event: " + _hist(self.events),
            "  exit codes after signal:   " + _hist(self.exits),
        ]
        if self.stop_latency:
            lines.append(
                f"  signal -> exit: max {max(self.stop_latency):.2f} s, "
                f"mean {sum(self.stop_latency) / len(self.stop_latency):.2f} s"
            )
        return "\n".join(lines)


def _hist(counter: collections.Counter[str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counter.items())) or "-"


# -- processes ------------------------------------------------------------------------------


def tagged(tag: str) -> list[psutil.Process]:
    """Live processes (not zombies) whose environment carries ``CHAOS_TAG=tag``."""
    found = []
    for pid in psutil.pids():  # new instances: a cached one may be of a reused pid
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(TAG_VAR) == tag:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def wait_untagged(tag: str, timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` for every tagged process to end; returns those still alive."""
    deadline = time.monotonic() + timeout
    left = tagged(tag)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = tagged(tag)
    return left


def describe(procs: Iterable[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid}: {' '.join(p.cmdline())[:160]}")
        except psutil.Error:
            out.append(f"{p.pid}: (gone)")
    return out


def kill_all(procs: Iterable[psutil.Process]) -> None:
    """Clean up after a failed assertion, so one failure does not leak into others."""
    for p in procs:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue


# -- the end state --------------------------------------------------------------------------


def _commits(repo: Path) -> list[dict[str, str]]:
    """Oldest first: sha and trailers of each commit carrying an ``ExecPlan:`` trailer."""
    raw = git(repo, "log", "--reverse", "--format=%H%x00%(trailers:only,unfold)%x01")
    commits = []
    for record in raw.split("\x01"):
        sha, _, trailers = record.strip().partition("\x00")
        if not sha:
            continue
        fields = dict(line.split(": ", 1) for line in trailers.strip().splitlines() if ": " in line)
        if "ExecPlan" in fields:
            commits.append({"sha": sha, **fields})
    return commits


def verify_done(
    trial: Trial, milestones: int = MILESTONES, threads: set[str] | None = None
) -> None:
    """The plan is done exactly once: commits, trailers, Progress, state and tree agree.

    ``threads``: the codex thread ids handed out (default: what the fakes recorded).
    """
    threads = trial.threads() if threads is None else threads
    commits = _commits(trial.repo)
    milestone_commits = [c for c in commits if "Milestone" in c]
    ids = [c["Milestone"] for c in milestone_commits]
    assert ids == [str(i) for i in range(1, milestones + 1)], (ids, trial.output())
    for c in milestone_commits:
        assert c["ExecPlan"] == PLAN_REL
        assert c["Attempts"] == "1", c
        assert c["Codex-Thread"] in threads, (c, threads)
    assert len(commits) <= milestones + 1  # at most one outcomes commit after them
    _, plan = load_plan(trial.repo / PLAN_REL)
    named = [re.search(r"Milestone (\d+)", p.text) for p in plan.progress]
    assert [m.group(1) if m else None for m in named] == [
        str(i) for i in range(1, milestones + 1)
    ], [p.text for p in plan.progress]
    assert all(p.checked for p in plan.progress), [p.text for p in plan.progress]
    runs = trial.runs()
    assert len(runs) == 1, [r.run_id for r in runs]
    state = runs[0]
    assert state.status == "passed", state.status
    by_id = {c["Milestone"]: c["sha"] for c in milestone_commits}
    for ms in state.milestones:
        assert ms.status == "passed", (ms.id, ms.status)
        assert ms.commit == by_id[ms.id], (ms.id, ms.commit, by_id[ms.id])
    dirty = git(trial.repo, "status", "--porcelain")
    assert dirty == "", (dirty, trial.output())
    for i in range(1, milestones + 1):
        assert (trial.repo / f"m{i}.txt").read_text() == f"{i}\n"


@pytest.fixture
def reaper() -> Iterator[list[Trial]]:
    """Trials registered here have their processes killed after the test, pass or fail."""
    trials: list[Trial] = []
    yield trials
    for trial in trials:
        trial.cleanup()
