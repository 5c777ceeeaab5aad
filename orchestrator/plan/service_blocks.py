"""Services declared in ``service`` fenced code blocks: what checks need running.

A block whose info string holds the word ``service`` (```` ```sh service ````)
holds one shell command that starts a server, and comments saying when it is
ready and how long to wait::

    ```sh service
    python -m http.server 8000 --bind 127.0.0.1
    # ready: port 8000
    # timeout: 30s
    ```

``ready:`` is one of ``port N`` (a TCP connection to 127.0.0.1:N succeeds),
``url http://127.0.0.1:N/path`` (an HTTP request gets any answer below 500) or
``log TEXT`` (a line of the service's output contains TEXT). Only loopback
addresses are accepted. ``timeout`` defaults to 60 seconds. Services run for the
checks of the milestone they sit in, or for every milestone's checks under
``## Validation and Acceptance``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from orchestrator.plan.blocks import Fence
from orchestrator.settings.durations import parse_duration

_SERVICE = re.compile(r"(?:^|[\s,{}.])service(?:$|[\s,{}=])", re.IGNORECASE)
_KEY = re.compile(r"^#\s*(?P<key>ready|timeout)\s*:\s*(?P<value>.*?)\s*$", re.IGNORECASE)
_READY = re.compile(r"^(?P<kind>port|url|log)\s+(?P<value>.+)$", re.IGNORECASE)
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
DEFAULT_TIMEOUT = 60.0
_ANY_ADDRESS = ".".join(["0"] * 4)


@dataclass(frozen=True)
class ServiceDecl:
    line: int
    command: str
    ready: str
    timeout: float
    problems: tuple[str, ...]


def is_service_block(fence: Fence) -> bool:
    return bool(_SERVICE.search(fence.info)) and "validate" not in fence.info.casefold()


def check_ready(ready: str) -> str | None:
    """What is wrong with a ``ready:`` value, or None."""
    m = _READY.match(ready.strip())
    if m is None:
        return f"`ready: {ready}` is not `port N`, `url http://127.0.0.1:N/...` or `log TEXT`"
    kind, value = m.group("kind").casefold(), m.group("value").strip()
    if kind == "port" and not (value.isdigit() and 0 < int(value) < 65536):
        return f"`ready: port {value}`: the port must be a number from 1 to 65535"
    if kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or (parts.hostname or "") not in LOOPBACK:
            return (
                f"`ready: url {value}`: only http(s) URLs on a loopback address "
                "(127.0.0.1, localhost, [::1]) are allowed"
            )
    return None


def declaration(fence: Fence) -> ServiceDecl:
    """The service a block declares, with what is wrong with it."""
    problems: list[str] = []
    commands: list[str] = []
    ready = ""
    timeout: float = DEFAULT_TIMEOUT
    pending = ""
    for raw in fence.content.split("\n"):
        text = raw.strip()
        m = _KEY.match(text)
        if m and not pending:
            if m.group("key").casefold() == "ready":
                ready = m.group("value")
            else:
                try:
                    parsed = parse_duration(m.group("value"))
                    timeout = float(parsed) if isinstance(parsed, (int, float)) else timeout
                except ValueError as exc:
                    problems.append(str(exc))
            continue
        if not pending and (not text or text.startswith("#")):
            continue
        text = re.sub(r"^\$\s+", "", text) if not pending else text
        if text.endswith("\\"):
            pending += text[:-1].rstrip() + " "
            continue
        commands.append(pending + text)
        pending = ""
    if pending:
        commands.append(pending.strip())
    if len(commands) != 1:
        problems.append(
            f"a `service` block holds exactly one command that starts the service "
            f"(found {len(commands)})"
        )
    if not ready:
        problems.append("say when the service is ready: `# ready: port N`, `url URL` or `log TEXT`")
    elif (issue := check_ready(ready)) is not None:
        problems.append(issue)
    if _ANY_ADDRESS in " ".join(commands):
        problems.append("bind the service to 127.0.0.1, not 0.0.0.0 (loopback only)")
    return ServiceDecl(
        line=fence.start,
        command=commands[0] if commands else "",
        ready=ready,
        timeout=timeout,
        problems=tuple(problems),
    )


def pin(command: str, ready: str, timeout: float) -> str:
    """One string holding a service (how a run pins it)."""
    return f"{command}\n# ready: {ready}\n# timeout: {timeout:g}"


def unpin(pinned: str) -> tuple[str, str, float]:
    command, _, rest = pinned.partition("\n# ready: ")
    ready, _, timeout = rest.partition("\n# timeout: ")
    return command, ready, float(timeout or DEFAULT_TIMEOUT)
