"""What a run pins when it starts, and reads back from its state.

A run's checks (each milestone's, the plan's and the config's) and services are
pinned in the run state when it starts, so an agent that edits the plan cannot
change what validates it; the review gate is read once from the plan's header.
"""

from __future__ import annotations

from orchestrator.plan.model import Check, ExecPlan, Service
from orchestrator.plan.service_blocks import pin as pin_service
from orchestrator.plan.service_blocks import unpin as unpin_service
from orchestrator.plan.validate_blocks import pin, unpin
from orchestrator.settings.model import Settings
from orchestrator.store.state import RunState

SERVICE_KEY = "service:"


def pinned_checks(plan: ExecPlan, settings: Settings) -> dict[str, list[str]]:
    """Checks pinned when a run starts: each milestone's own, and ``plan`` (plan + config)."""
    pinned = {m.id: [pin(c.command, c.expect) for c in m.checks] for m in plan.milestones}
    pinned["plan"] = [pin(c.command, c.expect) for c in plan.checks]
    pinned["plan"] += list(settings.checks.commands)
    for key, services in [("plan", plan.services), *((m.id, m.services) for m in plan.milestones)]:
        if services:
            pinned[SERVICE_KEY + key] = [
                pin_service(s.command, s.ready, s.timeout) for s in services
            ]
    return pinned


def services_for(state: RunState, milestone_id: str) -> list[Service]:
    """The services pinned for a milestone's checks: the plan's, then its own."""
    out: list[Service] = []
    for key in ("plan", milestone_id):
        for i, pinned in enumerate(state.pinned_checks.get(SERVICE_KEY + key, []), 1):
            command, ready, timeout = unpin_service(pinned)
            out.append(
                Service(
                    id=f"{key}.service.{i}",
                    command=command,
                    line=0,
                    milestone=None if key == "plan" else key,
                    ready=ready,
                    timeout=timeout,
                )
            )
    return out


def checks_for(state: RunState, milestone_id: str) -> list[Check]:
    own = [
        Check(id=f"{milestone_id}.{i}", command=cmd, line=0, milestone=milestone_id, expect=[*e])
        for i, (cmd, e) in enumerate(map(unpin, state.pinned_checks.get(milestone_id, [])), 1)
    ]
    shared = [
        Check(id=f"plan.{i}", command=cmd, line=0, milestone=None, expect=[*e])
        for i, (cmd, e) in enumerate(map(unpin, state.pinned_checks.get("plan", [])), 1)
    ]
    return own + shared


def review_gate_for(text: str, settings: Settings) -> bool:
    """The config's review gate, unless the plan says ``review: off`` before its first heading."""
    for line in text.lstrip("\ufeff").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            break
        key, sep, value = stripped.partition(":")
        if sep and key.strip().lower() == "review":
            return value.strip().lower() not in ("off", "false", "no", "0")
    return settings.loop.review_gate
