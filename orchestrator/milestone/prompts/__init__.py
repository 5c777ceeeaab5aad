"""Prompt templates (``*.md`` beside this file), filled with :class:`string.Template`.

``$name`` placeholders are used (not ``str.format``) because plans are full of
braces. Every prompt starts with one marker line that scenario authors match on:
``[orchestrator] step=<kind> milestone=<id> attempt=<k> ...`` (see docs/supervisor.md).
"""

from __future__ import annotations

from functools import cache
from string import Template

from orchestrator.paths import PROMPTS_DIR


@cache
def _template(name: str) -> Template:
    return Template((PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8"))


def render_prompt(name: str, **values: str) -> str:
    """Fill prompt ``name`` (e.g. ``"implement"``); a missing value raises KeyError."""
    return _template(name).substitute(values)
