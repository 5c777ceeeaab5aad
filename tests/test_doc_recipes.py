"""The cron, systemd and tmux recipes of README.md and docs/operations.md, run as written.

Each recipe's command is read from the document, its orchestrator arguments are parsed
by the real parser, and the command runs against the scripted model (the real codex
binary) in a project at ``$HOME/src/project`` of a scratch home, with cron's minimal
environment: the plan passes, one commit lands, and a quiet run prints nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.cli import _build_parser
from orchestrator.store.state import list_runs
from orchestrator.testing.codex_home import prepare_codex_home
from orchestrator.testing.scenario import Scenario
from orchestrator.testing.server import ScriptedModelServer
from tests.conftest import GIT_IDENTITY, git

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "operations.md"]
PLAN_REL = ".agent/plans/feature.md"

pytestmark = pytest.mark.e2e


def _doc_example() -> tuple[str, str]:
    text = (ROOT / "docs" / "scripted-model.md").read_text(encoding="utf-8")
    plan = re.search(r"^~~~markdown\n(.*?)^~~~$", text, re.S | re.M)
    scenario = re.search(r"^```json\n(.*?)^```$", text, re.S | re.M)
    assert plan
    assert scenario
    return plan.group(1), scenario.group(1)


@dataclass(frozen=True)
class Recipe:
    doc: str
    kind: str  # cron | systemd | tmux
    command: str  # a shell command line
    workdir: str | None = None
    ok_codes: tuple[int, ...] = (0,)

    def __str__(self) -> str:
        return f"{self.doc}:{self.kind}"


def _recipes() -> list[Recipe]:
    found: list[Recipe] = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        name = path.name
        cron = re.findall(r"^ {4}(?:\d+\s+){2}\S+\s+\S+\s+\S+\s+(cd .+)$", text, re.M)
        found.extend(Recipe(name, "cron", line) for line in cron)
        for unit in re.findall(r"^ {4}\[Service\]\n((?: {4}\S.*\n)+)", text, re.M):
            fields = dict(re.findall(r"^ {4}(\w+)=(.*)$", unit, re.M))
            codes = tuple(int(c) for c in fields.get("SuccessExitStatus", "").split())
            found.append(
                Recipe(
                    name, "systemd", fields["ExecStart"], fields["WorkingDirectory"], (0, *codes)
                )
            )
        tmux = re.findall(r"^ {4}(tmux new-session .*?[^\\])$", text, re.M | re.S)
        found.extend(Recipe(name, "tmux", re.sub(r"\\\n\s*", "", block)) for block in tmux)
    return found


RECIPES = _recipes()


def test_every_document_has_its_three_recipes() -> None:
    kinds = {(r.doc, r.kind) for r in RECIPES}
    for doc in ("README.md", "operations.md"):
        assert {(doc, k) for k in ("cron", "systemd", "tmux")} <= kinds, kinds


def _orchestrator_argv(command: str) -> list[str]:
    """The arguments after the orchestrator program in a shell command line."""
    words = shlex.split(command.split("&&")[-1].split(";")[0])
    start = next(i for i, w in enumerate(words) if w.endswith("orchestrator"))
    return words[start + 1 :]


@pytest.mark.parametrize("recipe", RECIPES, ids=str)
def test_recipe_arguments_parse(recipe: Recipe) -> None:
    command = recipe.command if recipe.kind != "tmux" else shlex.split(recipe.command)[-1]
    args = _build_parser().parse_args(_orchestrator_argv(command))
    assert args.command == "run"
    assert [str(p) for p in args.plan] == [PLAN_REL]


@dataclass
class Home:
    path: Path
    project: Path
    env: dict[str, str]


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    """A scratch $HOME with the project, the orchestrator commands and a scripted model."""
    plan, scenario = _doc_example()
    home = tmp_path / "home"
    project = home / "src" / "project"
    (project / ".agent" / "plans").mkdir(parents=True)
    (project / PLAN_REL).write_text(plan, encoding="utf-8")
    shutil.copytree(ROOT / "configs", project / "configs")
    (project / ".gitignore").write_text(".venv/\n", encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "plan and configs")
    wrapper = f'#!/bin/sh\nexec {sys.executable} -m orchestrator "$@"\n'
    for where in (project / ".venv" / "bin", home / ".local" / "bin"):
        where.mkdir(parents=True)
        (where / "orchestrator").write_text(wrapper, encoding="utf-8")
        (where / "orchestrator").chmod(0o755)
    (home / "orchestrator").symlink_to(ROOT)  # ~/orchestrator/configs/... in a recipe
    with ScriptedModelServer(Scenario.model_validate_json(scenario)) as server:
        codex_env = prepare_codex_home(tmp_path / "codex-home", base_url=server.url)
        env = {  # cron's environment: little more than HOME and PATH
            "HOME": str(home),
            "LOGNAME": "cron",
            "SHELL": "/bin/sh",
            "PATH": f"{home / '.local' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"],
            "GIT_CONFIG_NOSYSTEM": "1",
            **GIT_IDENTITY,
            **codex_env,
        }
        yield Home(home, project, env)


def _expand(text: str, home: Home) -> str:
    return text.replace("%h", str(home.path))  # systemd's specifier; the shell does $HOME and ~


def _passed(home: Home) -> None:
    runs = list_runs(home.project)
    assert [r.status for r in runs] == ["passed"]
    assert "milestone 1: Add" in git(home.project, "log", "--all", "--format=%s")


@pytest.mark.parametrize("recipe", [r for r in RECIPES if r.kind == "cron"], ids=str)
def test_cron_line_runs_quietly(recipe: Recipe, home: Home) -> None:
    proc = subprocess.run(
        ["/bin/sh", "-c", recipe.command], env=home.env, cwd=home.path,
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (proc.stdout, proc.stderr) == ("", "")  # cron mails nothing after a clean night
    _passed(home)


@pytest.mark.parametrize("recipe", [r for r in RECIPES if r.kind == "systemd"], ids=str)
def test_systemd_service_runs(recipe: Recipe, home: Home) -> None:
    assert recipe.workdir is not None
    argv = shlex.split(_expand(recipe.command, home))
    proc = subprocess.run(
        argv, env=home.env, cwd=_expand(recipe.workdir, home),
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode in recipe.ok_codes, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _passed(home)


@pytest.mark.parametrize("recipe", [r for r in RECIPES if r.kind == "tmux"], ids=str)
def test_tmux_recipe_runs_in_a_real_pane(recipe: Recipe, home: Home) -> None:
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed; install it (apt-get install tmux) to run this test")
    argv = shlex.split(recipe.command)
    assert argv[:3] == ["tmux", "new-session", "-d"]
    base = [tmux, "-L", f"recipe-{uuid.uuid4().hex[:8]}", "-f", os.devnull]
    env = {**home.env, "TERM": "xterm-256color"}
    subprocess.run([*base, *argv[1:]], env=env, cwd=home.path, check=True, timeout=30)
    try:
        deadline = time.monotonic() + 180
        while not (runs := list_runs(home.project)) or runs[0].status == "running":
            assert time.monotonic() < deadline, "the run in the pane never finished"
            time.sleep(0.3)
        screen = ""
        while "run passed" not in screen and time.monotonic() < deadline:
            time.sleep(0.3)
            screen = subprocess.run(
                [*base, "capture-pane", "-p", "-J"], env=env, capture_output=True, text=True
            ).stdout
        assert "run passed (exit 0" in screen, screen
        assert "╭─ orchestrator" in screen  # the live view was up in the pane
    finally:
        subprocess.run([*base, "kill-server"], env=env, capture_output=True, check=False)
    _passed(home)
