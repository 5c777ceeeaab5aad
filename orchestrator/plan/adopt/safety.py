"""Whether one command line may run unattended as a check, and why (never runs it).

A line is adopted only when every part of it is known to terminate on its own
and to stay inside the work tree, and at least one part actually checks
something (tests, lints, type-checks, builds, compares). Anything doubtful gets
the reason it was refused.
"""

from __future__ import annotations

import re

from orchestrator.plan.adopt import shell
from orchestrator.plan.adopt.programs import judge
from orchestrator.plan.adopt.targets import words
from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v, worst

_PLACEHOLDER = re.compile(
    r"<[A-Za-z_][^<>\s]*>|(?<![/\w])\.\.\.(?![/\w])|…|\bpath/to/|\bYOUR_|\byour[-_]|\{\{|\[options?\]|\[args?\]"
    r"|\bXXX+\b|\bTODO\b|\bREPLACE_ME\b|\bplaceholder\b",
)
_WINDOWS = re.compile(r"(?:^|\s)\.{1,2}\\|[A-Za-z]:\\|%[A-Z_]+%")
_SUBSTITUTION = re.compile(r"\$\(|`|<\(|>\(|<<")
_CANNOT_FAIL = re.compile(r"(?:\|\||;)\s*(?:true|:|exit\s+0)\s*$")
_FILTERS = {"head", "tail", "grep", "egrep", "sort", "wc", "tee", "cat", "uniq", "cut", "tr",
            "jq", "sed", "awk", "column", "less", "more", "xargs"}  # fmt: skip
_SERVING = {"api", "server", "serve", "web", "app", "dev", "start", "watch", "listen", "daemon",
            "worker", "host", "port", "bind", "http", "grpc", "ui", "gui", "repl", "shell",
            "interactive", "console", "wait", "poll", "forever", "loop", "tail", "follow",
            "deploy", "publish", "push", "upload", "login", "delete", "drop", "reset",
            "migrate"}  # fmt: skip
_SAFE_TARGETS = {"/dev/null", "&1", "&2", "1", "2", "/dev/stdout", "/dev/stderr"}


def _redirects(simple: shell.Simple) -> Verdict | None:
    for op, target in simple.redirects:
        if op in {"<<", "<<<"}:
            return v(Kind.SHELL, "uses a here-document; copy it by hand if it is a check")
        if op.startswith("<") or target in _SAFE_TARGETS or target.isdigit():
            continue
        if target.startswith(("/", "~")) or ".." in target.split("/"):
            return v(Kind.EXTERNAL, f"writes `{target}`, outside the work tree")
    return None


def _assignments(simple: shell.Simple) -> Verdict | None:
    for a in simple.assignments:
        value = a.split("=", 1)[1]
        if value.startswith(("/", "~")) and not value.startswith("/dev/"):
            return v(Kind.MACHINE_PATH, f"sets `{a}`, a path on the author's machine")
    return None


def judge_line(line: str) -> Verdict:
    """The verdict for one (already joined) command line."""
    text = shell.strip_prompt(line)
    if not text:
        return v(Kind.NEUTRAL, "empty")
    m = _PLACEHOLDER.search(text)
    if m:
        return v(Kind.PLACEHOLDER, f"holds the placeholder `{m.group(0)}`: fill it in by hand")
    if _WINDOWS.search(text):
        return v(Kind.NOT_PORTABLE, "uses Windows paths or variables; checks run in a POSIX shell")
    if _SUBSTITUTION.search(text):
        return v(Kind.SHELL, "uses command substitution or a here-document; add it by hand")
    if _CANNOT_FAIL.search(text):
        return v(Kind.CANNOT_FAIL, "ends in `|| true` (or similar), so it can never fail")
    try:
        simples = shell.split(text)
    except shell.Unparsable as exc:
        return v(Kind.SHELL, f"cannot be read as a shell command ({exc})")
    verdicts: list[Verdict] = []
    piped = False
    for simple in simples:
        verdicts += [x for x in (_redirects(simple), _assignments(simple)) if x is not None]
        verdict = judge(simple.words)
        name = simple.program.rsplit("/", 1)[-1]
        if piped and name in _FILTERS and verdict.kind in {Kind.INSPECT, Kind.NEUTRAL, Kind.CHECK}:
            verdict = v(Kind.NEUTRAL, "filters the output")
        if simple.after == "&":
            verdict = v(Kind.SERVER, "starts a background process (`&`) that outlives the check")
        verdicts.append(verdict)
        piped = simple.after in {"|", "|&"}
    if not verdicts:
        return v(Kind.NEUTRAL, "empty")
    found = worst(verdicts)
    if found.kind is Kind.PROGRAM:
        serving = words(text) & _SERVING
        if serving:
            return v(Kind.SERVER, f"runs a program whose name or arguments say `{min(serving)}`")
    if found.kind in {Kind.NEUTRAL, Kind.INSPECT}:
        checks = [x for x in verdicts if x.kind is Kind.CHECK]
        if checks:
            return checks[0]
        if found.kind is Kind.NEUTRAL:
            return v(Kind.INSPECT, "changes directory or waits; proves nothing by itself")
    return found


def adoptable(verdict: Verdict, has_expectation: bool) -> bool:
    """CHECK always; a project's own program only when the plan states its output."""
    return verdict.kind is Kind.CHECK or (verdict.kind is Kind.PROGRAM and has_expectation)


def program_reason(verdict: Verdict) -> Verdict:
    """The reason given when a program with a stated output is adopted."""
    return check(f"{verdict.reason}; the plan states its output, which the check asserts")
