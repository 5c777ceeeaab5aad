"""Where commands hide in a plan's text: code blocks, prompt lines, inline code.

Yields every command-like line with the line it starts on, how it was written,
and the output the plan says to expect. Transcript output is never a command:
in a block with ``$ `` prompts only prompt lines are commands; elsewhere the
lines after an "Expected:" marker are output. A bare ``cd dir`` or ``export
X=1`` line carries over to the later commands of the same block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from orchestrator.plan.adopt import expected, shell
from orchestrator.plan.adopt.programs import judge, known
from orchestrator.plan.adopt.verdict import Kind
from orchestrator.plan.blocks import Blocks, Fence
from orchestrator.plan.text import line_body

SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", "terminal", "shell-session", "sh-session",
               "shellsession", "powershell", "pwsh", "ps1", "ps", "cmd", "bat", "batch", "fish",
               "bash-session", "session", "ksh"}  # fmt: skip
PLAIN_LANGS = {"", "text", "txt", "plain", "plaintext", "none", "output", "log"}
_OUTPUT_CUE = re.compile(
    r"(?:expect|output|should (?:see|print|show|get|return|report|look)|you(?:'ll| will) see"
    r"|prints?|result|transcript|response|returns?|looks like|displays?|shows?|outcome|produces?"
    r"|erwartet|ausgabe|预期|期望|输出|出力|期待|결과|출력)[^:]*[:：]\s*$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+")
_EXPECT_MARK = re.compile(
    r"^(?:#+\s*|//\s*|--\s*)?(?:expected(?: output| outcome| result)?|output|result|=>|->|→)"
    r"\s*[:：]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_INLINE = re.compile(r"(?<!`)(`+)(?!`)(?P<code>.+?)(?<!`)\1(?!`)")
_AFTER = re.compile(
    r"^[^`]{0,40}?\b(?:returns?|prints?|outputs?|shows?|reports?|yields?|displays?|responds? with"
    r"|should (?:print|show|output|return|report|say)|expect(?:ed|s)?:?)"
    r"\s*:?\s*(?P<rest>`[^`]+`.*)$"
    r"|^\s*(?:->|→|=>)\s*(?P<arrow>`[^`]+`)",
    re.IGNORECASE,
)
_RUN_CUE = re.compile(
    r"\b(?:run|runs|running|execute|exits?|pass(?:es)?|succeeds?|green|returns?|prints?|clean)\b"
    r"|実行|运行|執行|실행|ausführen",
    re.IGNORECASE,
)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
_NEXT_EXPECT = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:expected(?: output| outcome| result)?|pass condition|result)"
    r"(?:\*\*)?\s*[:：]\s*(?P<rest>.+)$",
    re.IGNORECASE,
)


_EXECUTABLE_PATH = re.compile(
    r"^(?:\.{1,2}/[\w./-]*[\w-]|(?:[\w.-]+/)*bin/[\w.-]+|(?:[\w.-]+/)+[\w-]+"
    r"|(?:[\w.-]+/)*[\w.-]+\.(?:sh|bash|zsh))$"
)


_WORKDIR = re.compile(r"^\s*\((?:workdir|cwd|in|from|run in|dir)\s*:?\s*`(?P<dir>[^`]+)`\)", re.I)


def _relative_dir(path: str) -> bool:
    return bool(re.fullmatch(r"[\w.@-]+(?:/[\w.@-]+)*/?", path)) and ".." not in path.split("/")


@dataclass
class Found:
    """One command as the plan writes it."""

    line: int
    command: str
    origin: str
    expect: list[str] = field(default_factory=list)


def looks_like_command(text: str) -> bool:
    """A line that reads as a shell command rather than prose or output."""
    body = shell.strip_prompt(text)
    if not body or body.startswith("#") or body.endswith((":", "：")):
        return False
    words = body.split()
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=\S*$", words[0]):
        words.pop(0)
    if not words:
        return False
    head = words[0]
    if known(head):
        return not (len(words) > 12 and body.endswith("."))
    return _EXECUTABLE_PATH.match(head) is not None


class _Block:
    """Commands of one code block, with carried ``cd``/``export`` context."""

    def __init__(self, origin: str, strict: bool) -> None:
        self.origin = origin
        self.strict = strict
        self.found: list[Found] = []
        self.output: dict[int, list[str]] = {}
        self.prefix_cd = ""
        self.prefix_env = ""
        self.prefix_source = ""

    def _context(self, command: str) -> bool:
        """Consume ``cd X`` / ``export A=B``; True when the line only set context."""
        try:
            simples = shell.split(command)
        except shell.Unparsable:
            return False
        if len(simples) != 1:
            return False
        words = simples[0].words
        if words[:1] == ["cd"] and len(words) == 2:
            target = words[1]
            relative = not target.startswith(("/", "~", "$")) and ".." not in target.split("/")
            self.prefix_cd = f"cd {target} && " if relative else ""
            return True
        if words[:1] in (["source"], ["."]) and len(words) == 2:
            inside = judge(words).kind is Kind.NEUTRAL
            if inside:
                self.prefix_source += f". {words[1]} && "
            return inside
        if words[:1] == ["export"] and all(re.match(r"^\w+=", w) for w in words[1:]):
            values = [w.split("=", 1)[1] for w in words[1:]]
            if all(not x.startswith(("/", "~", "<", "$")) for x in values):
                self.prefix_env += "export " + " ".join(shlex_quote(w) for w in words[1:]) + " && "
            return True
        return False

    def add(self, line: int, command: str) -> None:
        if self._context(command):
            return
        prefix = f"{self.prefix_source}{self.prefix_cd}{self.prefix_env}"
        self.found.append(Found(line, f"{prefix}{command}", self.origin))
        self.output[len(self.found) - 1] = []

    def add_output(self, text: str, prose: bool = False) -> None:
        if not self.found:
            return
        target = self.found[-1]
        if prose:
            target.expect = target.expect or expected.from_prose(text)
        else:
            self.output[len(self.found) - 1].append(text)

    def finish(self) -> list[Found]:
        for i, f in enumerate(self.found):
            if not f.expect and self.output.get(i):
                f.expect = expected.from_output("\n".join(self.output[i]))
        return self.found


def shlex_quote(word: str) -> str:
    name, value = word.split("=", 1)
    return f"{name}={value}" if re.fullmatch(r"[\w@%+=:,./-]*", value) else f"{name}='{value}'"


def block_commands(lines: list[tuple[int, str]], origin: str, strict: bool) -> list[Found]:
    """Commands (and their expected output) in the lines of one code block."""
    block = _Block(origin, strict)
    prompt_mode = any(shell.has_prompt(t) for _, t in lines)
    collecting = False
    i = 0
    while i < len(lines):
        number, raw = lines[i]
        text = raw.strip()
        i += 1
        if not text:
            continue
        if prompt_mode and not shell.has_prompt(text):
            block.add_output(text)
            continue
        mark = _EXPECT_MARK.match(text)
        if mark and (text.startswith("#") or not looks_like_command(text)):
            collecting = True
            rest = mark.group("rest").strip()
            if rest:
                block.add_output(rest, prose=True)
            continue
        if text.startswith("#"):
            if collecting:
                block.add_output(text.lstrip("#").strip())
            continue
        if collecting and not looks_like_command(text):
            block.add_output(text)
            continue
        if strict and not looks_like_command(text):
            continue
        collecting = False
        parts = [shell.strip_prompt(text)]
        while parts[-1].endswith("\\") and i < len(lines):
            parts[-1] = parts[-1][:-1].rstrip()
            parts.append(lines[i][1].strip().removeprefix("> "))
            i += 1
        joined = " ".join(p for p in parts if p)
        if joined:
            block.add(number, joined)
    return block.finish()


def fence_lines(fence: Fence) -> list[tuple[int, str]]:
    return [(fence.start + 1 + k, x) for k, x in enumerate(fence.content.split("\n"))]


def indented_lines(blocks: Blocks, start: int, end: int) -> list[tuple[int, str]]:
    raw = [(n, line_body(blocks.lines[n - 1])) for n in range(start, end + 1)]
    indents = [len(x) - len(x.lstrip()) for _, x in raw if x.strip()]
    cut = min(indents) if indents else 0
    return [(n, x[cut:]) for n, x in raw]


def output_cue_before(blocks: Blocks, line: int) -> bool:
    """Whether the prose just above ``line`` announces output ("Expected output:")."""
    for n in range(line - 1, max(0, line - 4), -1):
        body = line_body(blocks.lines[n - 1]).strip()
        if not body:
            continue
        if n in blocks.code_lines:
            return False
        last_sentence = _SENTENCE.split(_LIST.sub("", body).strip("*_ "))[-1]
        return bool(_OUTPUT_CUE.search(last_sentence))
    return False


def inline_commands(blocks: Blocks, line: int) -> Iterator[Found]:
    """Commands written as inline code on one prose line, with what they should print."""
    body = line_body(blocks.lines[line - 1])
    spans = list(_INLINE.finditer(body))
    for k, m in enumerate(spans):
        code = m.group("code").strip()
        if not looks_like_command(code):
            continue
        if " " not in code and (not known(code) or not _RUN_CUE.search(body)):
            continue
        found = Found(line, shell.strip_prompt(code), "inline code")
        where = _WORKDIR.match(body[m.end() :])
        if where and _relative_dir(where.group("dir")):
            found.command = f"cd {where.group('dir').strip('/')} && {found.command}"
        tail = body[m.end() :]
        if k + 1 < len(spans):
            tail = body[m.end() : spans[k + 1].end()]
        after = _AFTER.match(tail)
        if after:
            found.expect = expected.from_prose(after.group("rest") or after.group("arrow") or "")
        elif k == len(spans) - 1 - bool(where) and line < len(blocks.lines):
            nxt = _NEXT_EXPECT.match(line_body(blocks.lines[line]))
            if nxt and line + 1 not in blocks.code_lines:
                found.expect = expected.from_prose(nxt.group("rest"))
        yield found


def prompt_line(blocks: Blocks, line: int) -> Found | None:
    """A prose line written as ``$ command``."""
    body = _LIST.sub("", line_body(blocks.lines[line - 1])).strip()
    if body.startswith("$ ") and looks_like_command(body):
        return Found(line, shell.strip_prompt(body), "prompt line")
    return None
