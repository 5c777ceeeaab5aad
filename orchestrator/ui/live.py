"""What a person sees of a run: the live status area (tmux) and the final summary (cron).

The live area renders the :class:`~orchestrator.ui.view.RunView` that the log
processor chain keeps up to date, so the supervisor never calls the display:
it wraps a run in :func:`live_display` and calls :func:`final_summary` at the
end. Without a TTY (or with ``log.live = false``, ``--quiet`` or JSON logs)
the live area is off and progress shows as plain log lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.errors import ExitCode
from orchestrator.settings.durations import format_duration
from orchestrator.settings.model import LogSettings
from orchestrator.ui import console
from orchestrator.ui.text import one_line
from orchestrator.ui.view import RunView

if TYPE_CHECKING:
    from rich.console import RenderableType

    from orchestrator.store.state import RunStatus

_MARKS = {
    "pending": ("·", "dim"),
    "running": ("▶", "bold cyan"),
    "passed": ("✓", "green"),
    "skipped": ("–", "dim"),
    "done": ("✓", "green"),
    "needs-human": ("?", "bold yellow"),
    "needs_human": ("?", "bold yellow"),
    "gave-up": ("✗", "red"),
    "gave_up": ("✗", "red"),
    "failed": ("✗", "red"),
    "interrupted": ("‖", "yellow"),
    "budget": ("‖", "yellow"),
    "unavailable": ("‖", "yellow"),
}


def render_view(view: RunView) -> RenderableType:
    """The status area for ``view``: plan, milestones, current step, last command/checks."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    header = Text.assemble(
        ("run ", "dim"),
        (view.run_id or "-", "bold"),
        ("  plan ", "dim"),
        (view.plan or "-", "bold"),
        ("  ", ""),
        (view.status, "bold"),
        ("  elapsed ", "dim"),
        (format_duration(view.run_elapsed()), ""),
        ("  tokens ", "dim"),
        (f"{view.tokens_total:,}", ""),
    )
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, overflow="ellipsis", no_wrap=True)
    table.add_column(no_wrap=True)
    for m in view.milestones:
        mark, style = _MARKS.get(m.status, ("•", ""))
        state = m.status
        if m.attempts:
            state += f" ({m.attempts} att.)"
        if m.commit:
            state += f" {m.commit[:8]}"
        table.add_row(Text(mark, style=style), m.id, m.title, Text(state, style=style))
    lines: list[RenderableType] = [header, table]
    if view.step is not None:
        elapsed = view.step_elapsed()
        running_checks = view.step == "checks" and elapsed is not None
        what = "checks running" if running_checks else f"step {view.step}"
        step = f"{what}  attempt {view.attempt or 0}  milestone {view.milestone or '-'}"
        if elapsed is not None:
            step += f"  {format_duration(elapsed)}"
        elif view.step_duration is not None:
            step += f"  done in {format_duration(view.step_duration)}"
        lines.append(Text(step, style="cyan"))
    if view.last_retry:
        lines.append(Text(view.last_retry, style="yellow"))
    left = view.waiting_left()
    if left is not None:
        lines.append(
            Text(
                f"usage limit: waiting {format_duration(left)} for the reset, then the same "
                "step again (Ctrl-C stops; the run stays resumable)",
                style="yellow",
            )
        )
    if view.step_problem:
        lines.append(Text(one_line(view.step_problem), style="yellow"))
    if view.running_command is not None:
        polled = f", polled {view.running_polls}x" if view.running_polls else ""
        ran = format_duration(view.command_elapsed() or 0.0)
        lines.append(
            Text.assemble(
                ("running: ", "dim"),
                (f"{ran}{polled} ", "bold cyan"),
                (one_line(view.running_command), ""),
                no_wrap=True,
                overflow="ellipsis",
            )
        )
    if view.last_command is not None:
        code = "" if view.last_command_exit is None else f"(exit {view.last_command_exit}) "
        lines.append(
            Text.assemble(
                ("last command: ", "dim"),
                (code, "red" if view.last_command_exit else ""),
                (one_line(view.last_command, 300), ""),
                no_wrap=True,
                overflow="ellipsis",
            )
        )
    if view.last_checks is not None:
        style = "green" if ", 0 failed" in view.last_checks else "red"
        lines.append(Text.assemble(("validation: ", "dim"), (view.last_checks, style)))
    if view.last_review is not None:
        lines.append(Text.assemble(("review: ", "dim"), (view.last_review, "")))
    if view.reason:
        lines.append(Text.assemble(("reason: ", "dim"), (view.reason, "")))
    return Panel(Group(*lines), title="orchestrator", title_align="left")


def live_enabled(settings: LogSettings) -> bool:
    """Whether the live area would show: a TTY on stderr, live on, not quiet, not JSON logs."""
    return (
        settings.live and not settings.quiet and settings.format != "json" and sys.stderr.isatty()
    )


@contextmanager
def live_display(settings: LogSettings, view: RunView | None = None) -> Iterator[None]:
    """Show the live status area for the duration of the block (a no-op without a TTY)."""
    if not live_enabled(settings):
        yield
        return
    from rich.console import Console, Group
    from rich.live import Live
    from rich.text import Text

    from orchestrator.ui import logs

    shown = view if view is not None else logs.run_view()
    terminal = Console(stderr=True, no_color=not console.colour_enabled(sys.stderr))
    # An empty line under the box holds the cursor: at the end of the box's last line, the
    # terminal's echo of ^C (or any stray byte) would wrap onto a new line, the next redraw
    # would start one line low and strand the box's top line on screen.
    live = Live(
        get_renderable=lambda: Group(render_view(shown), Text("")),
        console=terminal,
        refresh_per_second=2,
        transient=False,
        redirect_stdout=True,
        redirect_stderr=True,
    )
    logs.set_live(True)
    try:
        with live:
            yield
    finally:
        logs.set_live(False)


def summary_lines(
    *,
    status: RunStatus,
    exit_code: int,
    report_path: Path | None = None,
    question: str | None = None,
    reason: str | None = None,
    next_step: str | None = None,
) -> list[str]:
    """The short end-of-run summary (what cron mails); ends with the next step."""
    try:
        meaning = ExitCode(exit_code).name.lower().replace("_", "-")
    except ValueError:
        meaning = "unknown"
    lines = [f"orchestrator: run {status} (exit {exit_code}, {meaning})"]
    if reason:
        lines.append(f"  reason: {reason}")
    if question:
        lines.append(f"  question: {question}")
    if report_path is not None:
        lines.append(f"  report: {report_path}")
    if next_step:
        lines.append(f"  {next_step}")
    return lines


def final_summary(
    *,
    status: RunStatus,
    exit_code: int,
    settings: LogSettings,
    report_path: Path | None = None,
    question: str | None = None,
    reason: str | None = None,
    next_step: str | None = None,
) -> None:
    """Print the run's outcome: nothing when quiet and clean; otherwise a summary.

    A clean run (exit 0) prints on stdout unless quiet; any other outcome
    prints on stderr, quiet or not, so cron mails exactly then.
    """
    if exit_code == 0 and settings.quiet:
        return
    from orchestrator.redact import Redactor

    redactor = Redactor.from_env()
    write = console.out if exit_code == 0 else console.err
    for line in summary_lines(
        status=status,
        exit_code=exit_code,
        report_path=report_path,
        question=question,
        reason=reason,
        next_step=next_step,
    ):
        write(redactor(line))
