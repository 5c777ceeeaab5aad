"""Can each check's program be started? Told from the command line, before any token.

A check line is shell; its programs are the first words of its simple commands
(``a && b | c`` has three). How each is judged:

- a shell builtin or keyword (``test``, ``[``, ``cd``, ``if`` ...) needs nothing;
- a bare name (``pytest``) must be on the PATH the checks run with;
- a path (``./scripts/check.sh``, ``.venv/bin/pytest``) must exist in the
  repository, or be one the plan itself creates: the path, or one of its parent
  directories, is named in the plan's text outside the check lines (e.g. "Milestone
  1 adds ``scripts/check.sh``");
- ``python -m X`` needs X importable by that python (run from the repository), or X
  must be a package in the repository or named in the plan's text.

Anything the line computes (``$VAR``, backquotes) cannot be told and is accepted.
The same rules tell, after a check ran, whether its failure means it could not start
(:func:`cannot_start`): a setup problem for a person, not work for a repair round.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.process.probe import probe

_SEPARATORS = {"&&", "||", ";", "|", "|&", "&", "(", ")", ";;", "{", "}"}
_BUILTIN_WORDS = (
    "! : . [ [[ ]] alias bg break builtin case cd command continue declare do done echo elif "
    "else esac eval exec exit export false fg fi for function getopts hash if in jobs kill let "
    "local printf pushd popd pwd read readonly return select set shift shopt source test then "
    "time trap true type typeset ulimit umask unalias unset until wait while"
)
_BUILTINS = frozenset(_BUILTIN_WORDS.split(" "))
_PROBE = "import importlib.util,sys;sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)"
# Wrappers whose argument is the real program: `env X=1 pytest`, `timeout 60 make test`.
_WRAPPERS = frozenset({"env", "nice", "nohup", "timeout", "xvfb-run", "stdbuf"})
_OPTION_ARGS = frozenset({"-u", "--unset", "-C", "--chdir", "-s", "--signal", "-k", "-n"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_MISSING_MODULE = re.compile(r"No module named '?([A-Za-z0-9_.]+)'?")


@dataclass(frozen=True)
class Program:
    """One program a check line starts."""

    name: str  # as written
    module: str | None = None  # X of `python -m X`
    after_cd: bool = False  # a `cd` came before it on the line: paths cannot be told


@dataclass(frozen=True)
class Verdict:
    """Whether a program can start; ``problem`` and ``fix`` when it cannot."""

    program: Program
    ok: bool
    how: str
    problem: str | None = None


def _segments(command: str) -> list[list[str]]:
    lex = shlex.shlex(command, posix=True, punctuation_chars=";&|()")
    lex.whitespace_split = True
    lex.commenters = "#"
    segments: list[list[str]] = [[]]
    for token in lex:
        if token in _SEPARATORS:
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def _strip_prefix(words: list[str]) -> list[str]:
    """Drop assignments, redirections and wrappers before the real program."""
    i = 0
    while i < len(words):
        word = words[i]
        if _ASSIGNMENT.match(word) or word in {"!", "time", "then", "else", "do", "exec"}:
            i += 1
        elif word in _WRAPPERS:
            i += 1
            while i < len(words) and (words[i].startswith("-") or _ASSIGNMENT.match(words[i])):
                i += 2 if words[i] in _OPTION_ARGS else 1
            if word == "timeout" and i < len(words):
                i += 1  # the duration
        elif word in {"command", "builtin"} and i + 1 < len(words):
            i += 1
        else:
            break
    return words[i:]


def programs(command: str) -> list[Program]:
    """The programs ``command`` starts, in order; [] when the line cannot be parsed."""
    found: list[Program] = []
    after_cd = False
    try:
        segments = _segments(command)
    except ValueError:
        return []
    for segment in segments:
        words = _strip_prefix(segment)
        if not words:
            continue
        name = words[0]
        if name == "cd":
            after_cd = True
            continue
        if name in _BUILTINS or "$" in name or "`" in name or name.startswith(("<", ">")):
            continue
        module = None
        if _PYTHON.match(os.path.basename(name)) and "-m" in words[1:-1]:
            module = words[words.index("-m", 1) + 1]
        found.append(Program(name=name, module=module, after_cd=after_cd))
    return found


def plan_prose(plan_text: str, check_lines: Iterable[int]) -> str:
    """The plan's text without its check lines (what the plan says it creates)."""
    skip = set(check_lines)
    return "\n".join(line for n, line in enumerate(plan_text.splitlines(), 1) if n not in skip)


def _named_in(prose: str, rel: str) -> bool:
    parts = Path(rel).parts
    return any("/".join(parts[:n]) in prose for n in range(len(parts), 0, -1))


def _in_repo(root: Path, rel: str) -> bool:
    return bool(rel) and not rel.startswith("..") and not os.path.isabs(rel)


class ProgramJudge:
    """Judges programs for one repository, PATH and plan text (memoised)."""

    def __init__(self, root: Path, env: Mapping[str, str], prose: str) -> None:
        self.root = root
        self.env = env
        self.path = env.get("PATH", "")
        self.prose = prose
        self._modules: dict[tuple[str, str], bool] = {}

    def judge(self, program: Program) -> Verdict:
        name = program.name
        if "/" not in name:
            found = shutil.which(name, path=self.path)
            if found is None:
                return Verdict(
                    program, False, "bare name", f"`{name}` is not on PATH ({self.path or 'empty'})"
                )
            return self._module(program, found) or Verdict(program, True, f"on PATH: {found}")
        if program.after_cd:
            return Verdict(program, True, "path after `cd` (not checked)")
        target = Path(name) if os.path.isabs(name) else self.root / name
        rel = os.path.normpath(name)
        if target.is_file():
            if not os.access(target, os.X_OK):
                return Verdict(program, False, "path", f"`{name}` exists but is not executable")
            return self._module(program, str(target)) or Verdict(program, True, "path exists")
        if not os.path.isabs(name) and _in_repo(self.root, rel) and _named_in(self.prose, rel):
            return Verdict(program, True, "created by the plan (named in its text)")
        return Verdict(program, False, "path", f"`{name}` does not exist")

    def _module(self, program: Program, python: str) -> Verdict | None:
        module = program.module
        if module is None:
            return None
        top = module.split(".")[0]
        key = (python, module)
        if key not in self._modules:
            done = probe([python, "-c", _PROBE, module], cwd=self.root, env=self.env, timeout=30)
            self._modules[key] = done.ok
        if self._modules[key]:
            return Verdict(program, True, f"{program.name} can import {module}")
        if self.repo_module(top) or re.search(rf"\b{re.escape(top)}\b", self.prose):
            return Verdict(program, True, f"module {module} is the plan's own code")
        return Verdict(program, False, "python -m", f"`{program.name}` cannot import `{module}`")

    def repo_module(self, top: str) -> bool:
        return any(
            (base / top).is_dir() or (base / f"{top}.py").is_file()
            for base in (self.root, self.root / "src")
        )


def cannot_start(
    command: str,
    exit_code: int | None,
    output: str,
    root: Path,
    env: Mapping[str, str],
    prose: str = "",
) -> str | None:
    """Why a check that just failed could not start (a setup problem), or None.

    Exit 126/127 or "command not found" for a program outside the repository, and
    ``No module named X`` from ``python -m X`` with X not the plan's own code, are
    setup problems; a missing path inside the repository is the agent's to create.
    """
    found = programs(command)
    judge = ProgramJudge(root, env, prose)
    for program in found:
        verdict = judge.judge(program)
        if verdict.ok:
            continue
        if "/" in program.name and not os.path.isabs(program.name):
            continue  # the agent's own file: a repair can create or fix it
        if exit_code in (126, 127) or "not found" in output or "No module named" in output:
            return verdict.problem
    match = _MISSING_MODULE.search(output)
    missing = match.group(1).split(".")[0] if match else None
    for program in found:
        top = program.module.split(".")[0] if program.module else None
        if (
            top is not None
            and top == missing
            and not judge.repo_module(top)
            and not re.search(rf"\b{re.escape(top)}\b", prose)
        ):
            return f"`{program.name} -m {program.module}`: No module named {missing}"
    return None
