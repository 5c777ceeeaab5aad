"""Capture the live view from a real tmux pane at four moments of a run.

Runs a two-milestone plan with the real codex binary against the scripted model
inside a detached tmux pane (100 x 30), and captures the pane while milestone 1
is being implemented, while its checks run, during its review, and after Ctrl-C
stops milestone 2. The scripted model is slowed down (``delay`` faults) so that
each moment lasts a few seconds.

    .venv/bin/python bench/capture_live_view.py            # print the four pictures
    .venv/bin/python bench/capture_live_view.py --write    # put them in docs/operations.md
    .venv/bin/python bench/capture_live_view.py --check    # compare with docs/operations.md

The pictures in docs/operations.md sit between ``<!-- live-view:NAME -->`` and
``<!-- /live-view:NAME -->`` markers; ``--check`` compares them with fresh captures
after replacing digits (times, ids, token counts) and runs of spaces, and exits 1
on a difference. Without tmux it says so and exits 0, capturing nothing.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "operations.md"
WIDTH, HEIGHT = 100, 30
PLAN_REL = ".agent/plans/greeting.md"

PLAN = """# Greeting

## Purpose / Big Picture

A greeting module and its command line.

## Progress

- [ ] Milestone 1: Greeting function
- [ ] Milestone 2: Command line

## Surprises & Discoveries

None yet.

## Decision Log

None yet.

## Outcomes & Retrospective

Not started.

## Context and Orientation

An empty repository.

## Plan of Work

### Milestone 1: Greeting function

```sh validate
sleep 4 && python3 -c "import greet; assert greet.hello('Ada') == 'Hello, Ada!'"
```

### Milestone 2: Command line

```sh validate
python3 greet.py Ada | grep -q 'Hello, Ada!'
```

## Concrete Steps

Run the checks.

## Validation and Acceptance

Both milestones' checks pass.
"""

_STEP: dict[str, object] = {"status": "done", "discoveries": [], "decisions": [], "question": None}
SCENARIO: dict[str, object] = {
    "model": "gpt-5.5",
    "rules": [
        {
            "name": "m1 implement",
            "match": {"prompt_contains": "step=implement milestone=1 "},
            "reply": {
                "commands": ["ls -a"],
                "patch": (
                    "*** Begin Patch\n*** Add File: greet.py\n+def hello(name):\n"
                    '+    return f"Hello, {name}!"\n*** End Patch\n'
                ),
                "answer": {**_STEP, "summary": "Added greet.hello()."},
                "fault": {"kind": "delay", "seconds": 3},
            },
        },
        {
            "name": "m1 review",
            "match": {"prompt_contains": "step=review milestone=1 "},
            "reply": {
                "answer": {
                    "verdict": "approve",
                    "summary": "hello() greets as the plan says.",
                    "findings": [],
                    "question": None,
                },
                "fault": {"kind": "delay", "seconds": 4},
            },
        },
        {
            "name": "m2 implement (slow: Ctrl-C stops it)",
            "match": {"prompt_contains": "step=implement milestone=2 "},
            "reply": {
                "commands": ["echo working"],
                "answer": {**_STEP, "summary": "never reached"},
                "fault": {"kind": "delay", "seconds": 60},
            },
        },
    ],
}

# name, what the pane shows when the moment has come, what the doc calls it
MOMENTS: list[tuple[str, str, str]] = [
    ("implementing", "last command: (exit 0)", "implementing milestone 1"),
    ("checks", "checks running  attempt 1  milestone 1", "its checks running"),
    ("review", "step review  attempt 1  milestone 1", "its review"),
    ("interrupted", "[exit 130]", "after Ctrl-C during milestone 2"),
]


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Capture", "GIT_AUTHOR_EMAIL": "c@example.invalid",
           "GIT_COMMITTER_NAME": "Capture", "GIT_COMMITTER_EMAIL": "c@example.invalid"}  # fmt: skip
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _repo(base: Path) -> Path:
    repo = base / "greeting"
    (repo / ".agent" / "plans").mkdir(parents=True)
    (repo / PLAN_REL).write_text(PLAN, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Greeting plan")
    return repo


class Pane:
    """A detached tmux session on its own server socket."""

    def __init__(self, tmux: str, command: str, env: dict[str, str]) -> None:
        self.base = [tmux, "-L", f"capture-{uuid.uuid4().hex[:8]}", "-f", os.devnull]
        self.env = env
        size = ["-x", str(WIDTH), "-y", str(HEIGHT)]
        subprocess.run([*self.base, "new-session", "-d", *size, command], env=env, check=True)

    def text(self) -> str:
        out = subprocess.run(
            [*self.base, "capture-pane", "-p", "-J"], env=self.env, capture_output=True, text=True
        ).stdout
        return "\n".join(line.rstrip() for line in out.rstrip("\n").splitlines()).rstrip("\n")

    def wait_for(self, needle: str, timeout: float = 120) -> str:
        """The pane once it shows ``needle`` and two captures agree (digits aside): a
        capture taken while the terminal is half way through a frame is not kept."""
        deadline = time.monotonic() + timeout
        before: str | None = None
        while time.monotonic() < deadline:
            screen = self.text()
            if needle in screen:
                if before is not None and normalized(before) == normalized(screen):
                    return screen
                before = screen
            else:
                before = None
            time.sleep(0.2)
        raise SystemExit(f"capture_live_view: {needle!r} never appeared; the pane shows:\n{screen}")

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", *keys], env=self.env, check=True)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], env=self.env, capture_output=True)


def capture(tmux: str) -> dict[str, str]:
    """The pane at each moment, keyed by moment name."""
    from orchestrator.paths import find_codex
    from orchestrator.testing.codex_home import prepare_codex_home
    from orchestrator.testing.scenario import Scenario
    from orchestrator.testing.server import ScriptedModelServer

    codex = find_codex()
    if codex is None:
        raise SystemExit("capture_live_view: the codex binary is not installed (make install)")
    scenario = Scenario.model_validate_json(json.dumps(SCENARIO))
    shots: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="lv-") as scratch:
        repo = _repo(Path(scratch))
        with ScriptedModelServer(scenario) as server:
            codex_env = prepare_codex_home(
                Path(scratch) / "codex-home", base_url=server.url, model=scenario.model
            )
            env = {  # the pane's own size, not the caller's COLUMNS/LINES
                k: v
                for k, v in os.environ.items()
                if not k.startswith("TMUX") and k not in ("COLUMNS", "LINES")
            }
            env |= {"TERM": "xterm-256color", "PYTHONPATH": str(ROOT), **codex_env}
            env.pop("NO_COLOR", None)
            command = (
                f"cd {repo} && {sys.executable} -m orchestrator run {PLAN_REL} "
                f'--codex-bin {codex}; echo "[exit $?]"; sleep 3600'
            )
            pane = Pane(tmux, command, env)
            try:
                for name, needle, _ in MOMENTS:
                    if name == "interrupted":
                        pane.wait_for("step implement  attempt 1  milestone 2")
                        time.sleep(1.5)
                        pane.keys("C-c")
                    shots[name] = pane.wait_for(needle)
            finally:
                pane.close()
        stable = scratch[: -len(Path(scratch).name)] + "lv-" + "X" * (len(Path(scratch).name) - 3)
        return {name: text.replace(scratch, stable) for name, text in shots.items()}


def normalized(text: str) -> str:
    """Digits and runs of spaces folded, so that times, ids and widths do not count."""
    text = re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "RUN", text)  # run ids
    text = re.sub(r"\b[0-9a-f]{8,}\b", "SHA", text)  # commits
    text = re.sub(r"\b(\d+h)?(\d+m)?\d+(\.\d+)?s\b", "D", text)  # durations: 9s, 1m02s
    text = re.sub(r"\d+", "0", text)
    return "\n".join(re.sub(r"[ ─]+", " ", line).strip() for line in text.splitlines())


def _block(name: str, text: str) -> str:
    return f"<!-- live-view:{name} -->\n```\n{text}\n```\n<!-- /live-view:{name} -->"


def _documented(doc: str) -> dict[str, str]:
    found = re.findall(r"<!-- live-view:(\w+) -->\n```\n(.*?)\n```\n<!-- /live-view:\1 -->", doc,
                       flags=re.S)  # fmt: skip
    return dict(found)


def write(shots: dict[str, str], doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    for name, shot in shots.items():
        pattern = re.compile(rf"<!-- live-view:{name} -->\n.*?<!-- /live-view:{name} -->", re.S)
        if not pattern.search(text):
            raise SystemExit(f"capture_live_view: {doc} has no live-view:{name} markers")
        text = pattern.sub(_block(name, shot).replace("\\", "\\\\"), text)
    doc.write_text(text, encoding="utf-8")


def check(shots: dict[str, str], doc: Path = DOC) -> list[str]:
    """Moments whose documented picture differs from the capture (after normalizing)."""
    documented = _documented(doc.read_text(encoding="utf-8"))
    return [
        name
        for name, shot in shots.items()
        if normalized(documented.get(name, "")) != normalized(shot)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update docs/operations.md")
    mode.add_argument("--check", action="store_true", help="compare with docs/operations.md")
    args = parser.parse_args(argv)
    tmux = shutil.which("tmux")
    if tmux is None:
        print("capture_live_view: tmux is not installed (apt-get install tmux); nothing captured")
        return 0
    shots = capture(tmux)
    show: Callable[[str], None] = print
    for name, _, title in MOMENTS:
        show(f"--- {name}: {title}")
        show(shots[name])
    if args.write:
        write(shots)
        show(f"wrote {len(shots)} pictures into {DOC}")
    if args.check:
        stale = check(shots)
        if stale:
            documented = _documented(DOC.read_text(encoding="utf-8"))
            for name in stale:
                diff = difflib.unified_diff(
                    normalized(documented.get(name, "")).splitlines(),
                    normalized(shots[name]).splitlines(),
                    f"docs ({name})",
                    f"pane ({name})",
                    lineterm="",
                )
                show("\n".join(diff))
            show(f"docs/operations.md differs from the pane at: {', '.join(stale)}")
            return 1
        show("docs/operations.md matches the pane at all four moments")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
