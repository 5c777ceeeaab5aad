"""Preflight: everything a run needs that can be told before the first model request.

``orchestrator doctor`` lists every item; ``run`` and ``resume`` call
:func:`require` after choosing what to run and before claiming any state, so a
failure exits 2 with the fixes, sends nothing to the model and leaves nothing
that blocks the next start. Uses git as a program (never GitPython), so it also
answers when git is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.codex.config_probe import probe_config, probe_version
from orchestrator.errors import SetupError
from orchestrator.milestone.check_programs import ProgramJudge, plan_prose, programs
from orchestrator.paths import find_codex
from orchestrator.process.probe import Started, start
from orchestrator.settings.model import Settings
from orchestrator.store.git_locks import lock_files

if TYPE_CHECKING:
    from orchestrator.run.head_start import HeadStart

GIT_PROBE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Item:
    """One preflight item: ``ok`` or not, what was found, and the fix when not."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """What is about to run: the plan and whether it is a new run."""

    plan: Path | None = None  # absolute
    new_run: bool = True
    pinned: dict[str, list[str]] | None = None  # the checks of a run being continued


_MARKERS = (
    ("MERGE_HEAD", "a merge"),
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase or am"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
)


def _git(root: Path, env: Mapping[str, str], *args: str) -> Started:
    """A git query started (its answer read when needed: independent ones run at once)."""
    return start(["git", *args], cwd=root, env=env, timeout=GIT_PROBE_TIMEOUT)


def _git_items(
    repo: Path, env: Mapping[str, str], settings: Settings, target: Target
) -> list[Item]:
    git = shutil.which("git", path=env.get("PATH", ""))
    if git is None:
        return [
            Item(
                "git",
                False,
                f"the git program is not on PATH ({env.get('PATH') or 'empty'})",
                "install git, or put its directory on PATH "
                "(in a crontab: PATH=/usr/local/bin:/usr/bin:/bin)",
            )
        ]
    version = _git(repo, env, "--version")
    try:
        top = _git(repo, env, "rev-parse", "--show-toplevel").result()
        items = [Item("git", True, version.result().stdout.strip() or git)]
    finally:
        version.stop()  # read by now, unless interrupted
    if not top.ok:
        items.append(
            Item(
                "repository",
                False,
                f"{repo} is not inside a git work tree",
                "run `git init` and make a first commit, or pass the repository with -C DIR",
            )
        )
        return items
    root = Path(top.stdout.strip())
    asked = _Asked(root, env, status=target.new_run and not settings.run.allow_dirty)
    try:
        if not asked.head.result().ok:
            items.append(Item("repository", False, f"{root} has no commits", "make a first commit"))
            return items
        items.append(Item("repository", True, str(root)))
        ident = {who: asked.idents[who].result() for who in asked.idents}
        missing = [who for who, done in ident.items() if not done.ok]
        if missing:
            items.append(
                Item(
                    "git identity",
                    False,
                    f"git has no {' or '.join(m[4:-6].lower() for m in missing)} identity in "
                    f"{root}",
                    "set one: `git config --global user.name NAME` and "
                    "`git config --global user.email EMAIL` (or the GIT_AUTHOR_*/GIT_COMMITTER_* "
                    "variables); milestone commits need it",
                )
            )
        else:
            author = ident["GIT_AUTHOR_IDENT"].stdout.rsplit(">", 1)[0] + ">"
            items.append(Item("git identity", True, author.strip()))
        items.append(_work_tree(root, asked, target))
    finally:
        asked.stop()
    return items


class _Asked:
    """The read-only git queries about the repository at ``root``, started at once.

    ``git status`` runs with ``--no-optional-locks`` (it must not refresh the index: a
    lock file of its own would look like another git's), only when a clean tree is
    required."""

    def __init__(self, root: Path, env: Mapping[str, str], *, status: bool) -> None:
        self.head = _git(root, env, "rev-parse", "--verify", "-q", "HEAD^{commit}")
        self.idents = {who: _git(root, env, "var", who) for who in _IDENTS}
        paths = [arg for marker, _ in _MARKERS for arg in ("--git-path", marker)]
        self.paths = _git(root, env, "rev-parse", *paths, "--absolute-git-dir")
        self.status = (
            _git(root, env, "--no-optional-locks", "status", "--porcelain", "--", ".",
                 ":(exclude).agent/runs")
            if status
            else None
        )  # fmt: skip

    def stop(self) -> None:
        """Stop and reap the queries whose answer was not needed."""
        for started in (self.head, *self.idents.values(), self.paths, self.status):
            if started is not None:
                started.stop()


_IDENTS = ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")


def _work_tree(root: Path, asked: _Asked, target: Target) -> Item:
    answer = asked.paths.result().stdout.splitlines()
    for (_, what), line in zip(_MARKERS, answer, strict=False):
        path = Path(line.strip())
        if (path if path.is_absolute() else root / path).exists():
            return Item(
                "work tree",
                False,
                f"{what} is in progress in {root}",
                "finish or abort it first (`git status` tells how)",
            )
    git_dir = answer[len(_MARKERS)].strip() if len(answer) > len(_MARKERS) else ""
    locks = lock_files(Path(git_dir))
    if locks:
        named = " ".join(str(p) for p in locks)
        return Item(
            "work tree",
            False,
            f"git's lock file {named} exists: another git command is running, or one was "
            "killed and left it",
            f"if no git command runs in {root}, remove it (`rm {named}`)",
        )
    if asked.status is not None:
        dirty = [line[3:] for line in asked.status.result().stdout.splitlines() if line.strip()]
        if dirty:
            return Item(
                "work tree",
                False,
                f"uncommitted changes ({', '.join(dirty[:10])}) in {root}",
                "commit or stash them, or pass --allow-dirty (they are then committed with "
                "the first milestone)",
            )
    return Item("work tree", True, "clean" if target.new_run else "continuing a run: kept as is")


def _codex_items(settings: Settings, env: Mapping[str, str], ahead: HeadStart | None) -> list[Item]:
    binary = find_codex(settings.codex.binary)
    version = probe_version(binary, env, ahead.codex_version(binary, env) if ahead else None)
    items = [Item("codex", version.ok, version.detail, version.fix)]
    config = probe_config(settings.codex, env)
    items.append(Item("codex config", config.ok, config.detail, config.fix))
    return items


def _plan_items(
    repo: Path, settings: Settings, target: Target, env: Mapping[str, str]
) -> list[Item]:
    from orchestrator.plan import load_plan
    from orchestrator.plan.lint import lint_plan

    assert target.plan is not None
    report = lint_plan(target.plan)
    if not report.runnable:
        problems = "; ".join(
            f"line {p.line}: {p.message}" for p in report.problems if p.severity == "error"
        )
        return [
            Item(
                "plan",
                False,
                f"{target.plan} cannot run: {problems}",
                f"edit the plan; `orchestrator check {target.plan}` explains each problem",
            )
        ]
    text, plan = load_plan(target.plan)
    items = [Item("plan", True, f"{target.plan}: {len(plan.milestones)} milestone(s)")]
    pinned = target.pinned
    if pinned is None:  # as the run will pin them (see run/pinned.py)
        pinned = {m.id: [c.command for c in m.checks] for m in plan.milestones}
        pinned["plan"] = [c.command for c in plan.checks] + list(settings.checks.commands)
    lines = [c.line for m in plan.milestones for c in m.checks] + [c.line for c in plan.checks]
    judge = ProgramJudge(repo, env, plan_prose(text, lines))
    shell = settings.checks.shell
    bad: list[str] = []
    if shutil.which(shell, path=env.get("PATH", "")) is None:
        bad.append(f"the check shell `{shell}` is not on PATH")
    seen: set[tuple[str, str | None]] = set()
    count = 0
    for owner, commands in pinned.items():
        for command in commands:
            for program in programs(command):
                if (program.name, program.module) in seen:
                    continue
                seen.add((program.name, program.module))
                count += 1
                verdict = judge.judge(program)
                if not verdict.ok:
                    where = "plan-level check" if owner == "plan" else f"milestone {owner}"
                    bad.append(f"{verdict.problem} (in `{command}`, {where})")
    if bad:
        items.append(
            Item(
                "check programs",
                False,
                "; ".join(bad),
                "install what is missing (or put it on PATH), or fix the check line in the "
                "plan; a path the plan itself creates must be named in the plan's text",
            )
        )
    else:
        items.append(Item("check programs", True, f"{count} program(s) found"))
    return items


def preflight(
    *,
    repo: Path,
    settings: Settings,
    target: Target,
    env: Mapping[str, str],
    ahead: HeadStart | None = None,
) -> list[Item]:
    """Every preflight item, in order; none sends a model request. ``ahead`` holds
    probes started earlier (see :mod:`orchestrator.run.head_start`)."""
    asked = repo  # git finds the top itself; a stray `.git` above must not be named
    repo = next((p for p in (repo, *repo.parents) if (p / ".git").exists()), repo)
    items = _git_items(asked, env, settings, target)
    items += _codex_items(settings, env, ahead)
    if target.plan is not None:
        items += _plan_items(repo, settings, target, env)
    return items


def require(items: list[Item], *, plan_arg: str | None = None) -> None:
    """Raise :class:`SetupError` naming every failed item and its fix."""
    failed = [i for i in items if not i.ok]
    if not failed:
        return
    parts = [f"{i.name}: {i.detail}" + (f"; fix: {i.fix}" if i.fix else "") for i in failed]
    doctor = "orchestrator doctor" + (f" {plan_arg}" if plan_arg else "")
    raise SetupError(
        "not ready to run, nothing was sent to the model and nothing was changed. "
        + ". ".join(parts)
        + f". `{doctor}` lists every item."
    )
