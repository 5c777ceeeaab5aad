"""The one place structlog is configured.

Every record gets a UTC timestamp, its level, the bound context
(``run_id``, ``milestone``, ``step``, ``attempt``), is redacted, feeds the
live :class:`~orchestrator.ui.view.RunView`, is appended to
``<run_dir>/events.jsonl`` (one JSON object a line) and is shown on the
console: human-readable lines (colour on a TTY), or JSON lines with
``--log-format json``; nothing in quiet mode; only warnings and errors while
the live status area is up. :func:`configure_logging` may be called again
when the run directory becomes known.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import structlog

from orchestrator.redact import Redactor
from orchestrator.settings.model import LogSettings
from orchestrator.ui import console
from orchestrator.ui.events import ProgressEvent
from orchestrator.ui.lines import line_style, progress_line
from orchestrator.ui.text import one_line
from orchestrator.ui.view import RunView

EVENTS_FILE = "events.jsonl"
CONTEXT_KEYS = ("run_id", "milestone", "step", "attempt")
_HEAD = ("timestamp", "level", "event", *CONTEXT_KEYS)
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}

EventDict = MutableMapping[str, Any]
# Console lines (without the live area) show progress, warnings and errors only.
_FOR_PEOPLE = frozenset(e.value for e in ProgressEvent)
# Progress the live area shows but a plain console skips (the finished line follows).
_VIEW_ONLY = frozenset(
    {ProgressEvent.CODEX_COMMAND_STARTED.value, ProgressEvent.CODEX_COMMAND_POLLED.value}
)
_SHORT = 160


def _short(value: Any) -> Any:
    if isinstance(value, str) and (len(value) > _SHORT or "\n" in value):
        return one_line(value, _SHORT)
    return value


@dataclass
class _State:
    settings: LogSettings = field(default_factory=LogSettings)
    run_id: str | None = None
    events_path: Path | None = None
    events_file: IO[str] | None = None
    redactor: Redactor = field(default_factory=Redactor)
    console_format: str = "console"
    colors: bool = False
    live: bool = False
    view: RunView = field(default_factory=RunView)
    lock: threading.Lock = field(default_factory=threading.Lock)


_state = _State()


def _ordered(event_dict: Mapping[str, Any]) -> dict[str, Any]:
    head = {k: event_dict.get(k) for k in _HEAD}
    return head | {k: v for k, v in event_dict.items() if k not in head}


def _add_context(_: Any, __: str, event_dict: EventDict) -> EventDict:
    if event_dict.get("run_id") is None and _state.run_id is not None:
        event_dict["run_id"] = _state.run_id
    for key in CONTEXT_KEYS:
        event_dict.setdefault(key, None)
    return event_dict


def _redact(_: Any, __: str, event_dict: EventDict) -> EventDict:
    redacted: EventDict = _state.redactor.data(dict(event_dict))
    return redacted


def _feed_view(_: Any, __: str, event_dict: EventDict) -> EventDict:
    with contextlib.suppress(Exception):  # the display must never break logging
        _state.view.apply(event_dict)
    return event_dict


def _json_line(event_dict: Mapping[str, Any]) -> str:
    text = json.dumps(_ordered(event_dict), default=str, ensure_ascii=False)
    return _state.redactor(text)


def _emit(_: Any, __: str, event_dict: EventDict) -> str:
    """Write the record to events.jsonl; return the console line (or drop it).

    Progress events and warnings print as ``HH:MM:SS`` lines (UTC, like the records'
    timestamps); with the live status area up they print above it, so the run's history
    stays on screen when the area stops. Other records stay in events.jsonl.
    """
    line = _json_line(event_dict)
    with _state.lock:
        if _state.events_file is not None:
            _state.events_file.write(line + "\n")
            _state.events_file.flush()
    level = _LEVELS.get(str(event_dict.get("level")), 20)
    if _state.settings.quiet or level < 20:
        raise structlog.DropEvent
    if _state.console_format == "json":
        return line
    text = console_line(event_dict, colors=_state.colors)
    if text is None:
        raise structlog.DropEvent  # diagnostics stay in events.jsonl
    return _state.redactor(text)


def console_line(record: Mapping[str, Any], *, colors: bool) -> str | None:
    """The line a person sees for a record: ``HH:MM:SS`` and the progress line, warning or
    error; None for a diagnostic (``orchestrator logs`` prints the same lines)."""
    level = _LEVELS.get(str(record.get("level")), 20)
    name = str(record.get("event"))
    if level < 20 or (level < 30 and (name not in _FOR_PEOPLE or name in _VIEW_ONLY)):
        return None
    clock = console.paint(str(record.get("timestamp", ""))[11:19], "dim", enabled=colors)
    if level < 30 and (text := progress_line(record)) is not None:
        return f"{clock} {console.paint(text, line_style(record), enabled=colors)}"
    return f"{clock} {_problem_line(record, level, colors)}"


def _problem_line(event_dict: Mapping[str, Any], level: int, colors: bool) -> str:
    """A warning or error on one line: ``warning: event key=value ...``."""
    name = "error" if level >= 40 else "warning"
    fields = " ".join(
        f"{k}={_short(v)}"
        for k, v in _ordered(event_dict).items()  # the order of events.jsonl
        if v is not None and k not in ("timestamp", "level", "event", "run_id")
    )
    head = console.paint(
        f"{name}: {event_dict.get('event')}",
        "red" if level >= 40 else "yellow",
        enabled=colors,
    )
    return one_line(f"{head} {fields}".rstrip(), 400)


class _ConsoleLogger:
    """Writes rendered lines to whatever ``sys.stderr`` is at call time (rich Live swaps it)."""

    def msg(self, message: str) -> None:
        console.err(message)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _logger_factory(*_: Any) -> _ConsoleLogger:
    return _ConsoleLogger()


def _console_format(settings: LogSettings) -> tuple[str, bool]:
    if settings.format == "json":
        return "json", False
    return "console", settings.format == "auto" and console.colour_enabled(sys.stderr)


def configure_logging(
    settings: LogSettings, run_dir: Path | None = None, run_id: str | None = None
) -> None:
    """(Re)configure structlog; with ``run_dir``, records also go to its events.jsonl."""
    with _state.lock:
        new_path = run_dir / EVENTS_FILE if run_dir is not None else None
        if _state.events_file is not None and new_path != _state.events_path:
            _state.events_file.close()
            _state.events_file = None
        if new_path is not None and _state.events_file is None:
            new_path.parent.mkdir(parents=True, exist_ok=True)
            _state.events_file = new_path.open("a", encoding="utf-8")
        _state.events_path = new_path
        _state.settings = settings
        _state.run_id = run_id
        _state.redactor = Redactor.from_env()
        _state.console_format, _state.colors = _console_format(settings)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            structlog.processors.format_exc_info,
            _add_context,
            _redact,
            _feed_view,
            _emit,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=_logger_factory,
        cache_logger_on_first_use=False,
    )


def close_logging() -> None:
    """Close events.jsonl (records still go to the console)."""
    with _state.lock:
        if _state.events_file is not None:
            _state.events_file.close()
        _state.events_file = None
        _state.events_path = None


def run_view() -> RunView:
    """The live view the progress events update."""
    return _state.view


def reset_run_view() -> RunView:
    """Start a fresh view (a new run in the same process)."""
    _state.view = RunView()
    return _state.view


def set_live(active: bool) -> None:
    """While the live status area is up, only warnings and errors print as lines."""
    _state.live = active


def events_path() -> Path | None:
    """The events.jsonl records are written to, if any."""
    return _state.events_path
