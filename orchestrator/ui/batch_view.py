"""The combined live view of a parallel batch: one row per plan, on a terminal.

The batch prints a line whenever a plan's run changes (those scroll above);
this table stays at the bottom of the screen while the batch runs and is left
on screen, in its last state, when it ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import RenderableType
from rich.table import Table

from orchestrator.ui import console


@dataclass(frozen=True)
class BatchRow:
    """What the table shows of one plan."""

    plan: str
    branch: str
    state: str
    where: str
    tokens: int


_STYLE = {"passed": "green", "done": "green", "running": "cyan", "waiting": "dim"}


def render_batch(rows: Sequence[BatchRow]) -> RenderableType:
    table = Table(title="orchestrator: plans in worktrees", title_justify="left")
    for column in ("plan", "branch", "state", "where", "tokens"):
        table.add_column(column, justify="right" if column == "tokens" else "left")
    for row in rows:
        style = _STYLE.get(row.state, "yellow")
        table.add_row(row.plan, row.branch, f"[{style}]{row.state}[/]", row.where, str(row.tokens))
    return table


@contextmanager
def batch_live(enabled: bool, rows: Callable[[], Sequence[BatchRow]]) -> Iterator[None]:
    """Show the table for the duration of the block (a no-op when ``enabled`` is false)."""
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.live import Live

    live = Live(
        get_renderable=lambda: render_batch(rows()),
        console=Console(stderr=True, no_color=not console.colour_enabled(sys.stderr)),
        refresh_per_second=2,
        transient=False,
        redirect_stdout=True,
        redirect_stderr=True,
    )
    with live:
        yield
