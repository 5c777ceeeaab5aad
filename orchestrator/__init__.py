"""orchestrator: drive `codex exec` through the milestones of an ExecPlan, unattended."""

from __future__ import annotations

__version__ = "0.1.0"
