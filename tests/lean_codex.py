"""A codex stand-in that starts in milliseconds, for tests that start hundreds of steps.

The shared fake codex (:mod:`orchestrator.testing.fake_codex`) plays any scenario
but imports pydantic on every step (about 0.4 s); this one plays exactly one
script, the chaos plan's: each implement step writes ``m<N>.txt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

LEAN_CODEX = r"""
import json, os, re, signal, subprocess, sys, uuid

args = sys.argv[1:]
if args == ["--version"]:
    print("codex-cli 0.169.0 (lean)")
    sys.exit(0)
if args[:1] == ["sandbox"]:  # no sandbox here (as the shared fake): checks run without
    sys.stderr.write("lean codex: `codex sandbox` is not supported\n")
    sys.exit(2)
out = args[args.index("-o") + 1] if "-o" in args else None
thread = args[args.index("resume") + 1] if "resume" in args else str(uuid.uuid4())
prompt = args[args.index("--") + 1] if "--" in args else sys.stdin.read()
cwd = args[args.index("-C") + 1] if "-C" in args else os.getcwd()
found = re.search(r"step=(\w+) milestone=(\S+)", prompt)
kind, milestone = found.groups() if found else ("?", "?")
child = None


def on_sigint(signo, frame):
    if child is not None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(1)


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


signal.signal(signal.SIGINT, on_sigint)
with open(os.environ["LEAN_CODEX_THREADS"], "a") as f:
    f.write(thread + "\n")
emit({"type": "thread.started", "thread_id": thread})
emit({"type": "turn.started"})
if kind == "review":
    answer = {"verdict": "approve", "summary": "ok", "findings": [], "question": None}
else:
    command = f"echo $$ >> .git/chaos-pids; sleep {os.environ.get('LEAN_CODEX_SLEEP', '0')}; "
    command += f"echo {milestone} > m{milestone}.txt"
    item = {"id": "item_0", "type": "command_execution", "command": command,
            "aggregated_output": "", "exit_code": None, "status": "in_progress"}
    emit({"type": "item.started", "item": item})
    child = subprocess.Popen(["bash", "-c", command], cwd=cwd, start_new_session=True)
    while True:  # in slices: a SIGINT just before a blocking wait would wait for the child
        try:
            code = child.wait(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            pass
    child = None
    emit({"type": "item.completed", "item": {**item, "exit_code": code, "status": "completed"}})
    answer = {"status": "done", "summary": f"created m{milestone}.txt", "discoveries": [],
              "decisions": [], "question": None}
text = json.dumps(answer)
emit({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": text}})
if out:
    with open(out, "w") as f:
        f.write(text)
usage = {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10,
         "reasoning_output_tokens": 0}
emit({"type": "turn.completed", "usage": usage})
"""


def install_lean_codex(directory: Path) -> Path:
    """A codex stand-in that starts in milliseconds: the chaos trials start hundreds of steps.

    Each step runs one command (its shell's pid goes to ``.git/chaos-pids``) that writes
    ``m<N>.txt``, answers like codex 0.169 with ``--json``, and appends its thread id to
    ``$LEAN_CODEX_THREADS``. SIGINT kills the running command and exits 1, as codex does.
    ``codex sandbox`` (the verifier's probe) fails at once, as in the shared fake.
    """
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "codex"
    shim.write_text(f"#!{sys.executable} -I\n{LEAN_CODEX}", encoding="utf-8")
    shim.chmod(0o755)
    return shim
