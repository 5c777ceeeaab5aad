"""Record every child process a command starts, and replay the same children from bash.

Recording: :func:`install_shims` writes ``git``, ``bash`` and ``codex`` shims (POSIX
sh) into a directory put first on PATH. Each shim appends one record (its pid, its
parent's pid, working directory, the git identity/index variables, argv) to a log,
keeps a copy of what it was given on a stdin pipe and of a ``-F FILE`` message,
runs the real program, keeps git's stdout and the exit code, and passes both on.
Only the children whose parent is the recorded process count: the fake codex's own
``bash -c`` commands are its work, replayed by replaying codex.

Replay: :func:`replay_script` turns the records into one bash script that starts
the same programs with the same arguments, in the same order, in another
directory tree (every path under the recorded root is moved to the replay root).
Object names flow as they did: a sha that a recorded git command printed is, in
later arguments and stdin, the output of the same command in the replay (the plan
file the orchestrator ticks makes the trees differ). What the orchestrator does in
Python between two children (write ``objects/info/alternates`` after ``git init``
of the verification copy) is done with shell builtins, no process; the throwaway
index the orchestrator copies from ``.git/index`` is one index file kept between
uses. A command that failed when recorded (the sandbox probe) may fail in the
replay; any other failure stops it.
"""

from __future__ import annotations

import collections
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

_SHIM = r"""#!/bin/sh
log={log}
rec="$log.d/$$"
read -r parent </proc/$PPID/comm || parent=?
printf '%s\0' "$$" "$PPID" "$parent" "$(pwd -P)" {name} \
  "${{GIT_INDEX_FILE-}}" "${{GIT_AUTHOR_NAME-}}" "${{GIT_AUTHOR_EMAIL-}}" \
  "${{GIT_COMMITTER_NAME-}}" "${{GIT_COMMITTER_EMAIL-}}" "$#" "$@" >>"$log"
prev=
for a; do [ "$prev" = -F ] && cp "$a" "$rec.F"; prev=$a; done
if [ -p /dev/stdin ]; then cat >"$rec.in"; exec <"$rec.in"; fi
if [ {name} = git ]; then
  {real} "$@" >"$rec.out"; rc=$?; cat "$rec.out"
else
  {real} "$@"; rc=$?
fi
echo $rc >"$rec.rc"
exit $rc
"""
_ENV = ("GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL")  # fmt: skip
_SHA = re.compile(r"\b[0-9a-f]{40}\b")


@dataclass
class Child:
    """One recorded child process."""

    pid: str
    ppid: str
    cwd: str
    name: str  # git, bash or codex
    env: dict[str, str]
    argv: list[str]
    stdin: bytes | None
    message: bytes | None  # the -F file
    out: bytes | None
    rc: int

    @property
    def kind(self) -> str:
        """``git SUBCOMMAND``, ``codex SUBCOMMAND`` or ``bash`` (a check)."""
        if self.name == "bash":
            return "bash (check)"
        words = [a for a in self.argv if not a.startswith("-")]
        return f"{self.name} {words[0] if words else self.argv[0]}"


def install_shims(directory: Path, log: Path, codex: Path) -> Path:
    """Write the recording shims into ``directory``; returns it (put it first on PATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    Path(f"{log}.d").mkdir(parents=True, exist_ok=True)
    reals = {"git": shutil.which("git"), "bash": shutil.which("bash"), "codex": str(codex)}
    for name, real in reals.items():
        assert real is not None, name
        shim = directory / name
        text = _SHIM.format(log=shlex.quote(str(log)), name=name, real=shlex.quote(real))
        shim.write_text(text, encoding="utf-8")
        shim.chmod(0o755)
    return directory


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def read_children(log: Path, parent: int = -1, parent_name: str = "") -> list[Child]:
    """The recorded children of process ``parent`` (or of any process whose name is
    ``parent_name``: a bash script and its command substitutions), in start order."""
    fields = log.read_bytes().split(b"\0")
    found: list[Child] = []
    i = 0
    while i + 11 <= len(fields):
        head = [f.decode("utf-8", "surrogateescape") for f in fields[i : i + 11]]
        argc = int(head[10])
        argv = [f.decode("utf-8", "surrogateescape") for f in fields[i + 11 : i + 11 + argc]]
        i += 11 + argc
        pid, ppid, comm, cwd, name = head[:5]
        if int(ppid) != parent and comm != parent_name:
            continue
        rec = Path(f"{log}.d") / pid
        rc = _read(Path(f"{rec}.rc"))
        found.append(
            Child(
                pid=pid, ppid=ppid, cwd=cwd, name=name,
                env={k: v for k, v in zip(_ENV, head[5:10], strict=True) if v},
                argv=argv, stdin=_read(Path(f"{rec}.in")), message=_read(Path(f"{rec}.F")),
                out=_read(Path(f"{rec}.out")), rc=int(rc) if rc else -1,
            )
        )  # fmt: skip
    return found


def count_kinds(children: list[Child]) -> collections.Counter[str]:
    """How many children of each kind."""
    return collections.Counter(c.kind for c in children)


class _Script:
    def __init__(self, old_root: Path, new_root: Path, programs: dict[str, str]) -> None:
        self.old, self.new = str(old_root), str(new_root)
        self.programs = programs
        self.shas: dict[str, str] = {}  # recorded sha -> the variable holding the replay's
        self.lines = ["set -e"]
        self.cwd = ""
        self.files: dict[Path, bytes] = {}  # written before the replay starts

    def move(self, text: str, *, dynamic: bool = True) -> str:
        text = text.replace(self.old, self.new)
        if dynamic:
            text = _SHA.sub(lambda m: self.shas.get(m.group(0), m.group(0)), text)
        return text

    def word(self, arg: str) -> str:
        """One shell word: the argument moved, shas as ``"${h_N}"`` expansions."""
        moved = self.move(arg, dynamic=False)
        parts = _SHA.split(moved)
        found = _SHA.findall(moved)
        out = shlex.quote(parts[0]) if parts[0] else ""
        for sha, rest in zip(found, parts[1:], strict=True):
            out += f'"{self.shas[sha]}"' if sha in self.shas else sha
            out += shlex.quote(rest) if rest else ""
        return out or "''"

    def add(self, n: int, child: Child) -> None:
        cwd = self.move(child.cwd, dynamic=False)
        probe = child.name == "codex" and child.argv[:1] == ["sandbox"]
        if probe and Path(cwd).parent.name.startswith("probe-"):
            # the sandbox probe started ahead (run/head_start.py) runs in a workspace the
            # orchestrator makes in Python (a directory with a `.git`) and then removes
            self.files[Path(cwd) / ".git" / ".replay"] = b""
        if cwd != self.cwd:
            self.lines.append(f"cd {shlex.quote(cwd)}")
            self.cwd = cwd
        env = dict(child.env)
        if "GIT_INDEX_FILE" in env:  # the throwaway index: one kept file
            env["GIT_INDEX_FILE"] = f"{self.new}/replay/work-index"
        words = [f"{k}={shlex.quote(v)}" for k, v in env.items()]
        words += [shlex.quote(self.programs[child.name])]
        words += [self.word(a) for a in child.argv]
        if child.message is not None:
            i = child.argv.index("-F") + 1
            self.files[Path(self.move(child.argv[i], dynamic=False))] = child.message
        redirect, heredoc = " </dev/null", ""
        if child.stdin is not None and child.name == "git":
            body = child.stdin.decode("utf-8", "surrogateescape")
            for c in "\\$`":
                body = body.replace(c, "\\" + c)
            body = _SHA.sub(lambda m: self.shas.get(m.group(0), m.group(0)), body)
            body += "" if body.endswith("\n") else "\n"
            redirect, heredoc = f" <<__STDIN_{n}__", f"\n{body}__STDIN_{n}__"
        elif child.stdin is not None:
            path = Path(f"{self.new}/replay/stdin-{n}")
            self.files[path] = child.stdin
            redirect = f" <{shlex.quote(str(path))}"
        command = " ".join(words) + redirect
        printed = (child.out or b"").decode("utf-8", "replace").strip()
        if child.rc != 0:
            self.lines.append(f"{command} >/dev/null 2>&1 || true{heredoc}")
        elif _SHA.fullmatch(printed):
            var = f"h_{n}"
            self.lines.append(f"{var}=$({command}{heredoc}\n)")
            self.shas[printed] = f"${{{var}}}"
        else:
            self.lines.append(f"{command} >/dev/null{heredoc}")
        if child.name == "git" and child.argv[:2] == ["init", "-q"]:
            # the orchestrator then writes the copy's alternates file (in Python)
            copy = self.move(child.argv[2], dynamic=False)
            objects = f"{self.new}/repo/.git/objects"
            alt = f"{copy}/.git/objects/info/alternates"
            self.lines.append(f"echo {shlex.quote(objects)} >{shlex.quote(alt)}")


def replay_script(
    children: list[Child], old_root: Path, new_root: Path, programs: dict[str, str]
) -> tuple[str, dict[Path, bytes]]:
    """The bash script replaying ``children`` under ``new_root``, and the files it needs
    in place before it starts (commit messages, codex stdin)."""
    script = _Script(old_root, new_root, programs)
    for n, child in enumerate(children):
        script.add(n, child)
    return "\n".join(script.lines) + "\n", script.files
