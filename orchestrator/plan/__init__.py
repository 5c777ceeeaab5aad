"""The ExecPlan document: parse, edit, lint."""

from __future__ import annotations
