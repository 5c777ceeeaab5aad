"""pytest plugin loaded by the orchestrator into every check (``-p orchestrator_verify_probe``).

It records what each test session really did (outcomes from the reports,
deselections, the exit status) in a JSON file of its own in the directory
``ORCH_VERIFY_RESULTS`` names, so the verdict never rests on an exit code or on
what the output says. Standalone on purpose: it runs in the project's Python,
which may not have the orchestrator installed.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

_COUNTS = {
    "passed": 0,
    "failed": 0,
    "errors": 0,
    "skipped": 0,
    "xfailed": 0,
    "xpassed": 0,
    "deselected": 0,
}
_STATE: dict[str, Any] = {"exitstatus": None, "collected": 0}


def pytest_deselected(items: list[Any]) -> None:
    _COUNTS["deselected"] += len(items)


def pytest_collectreport(report: Any) -> None:
    if report.failed:
        _COUNTS["errors"] += 1


def pytest_runtest_logreport(report: Any) -> None:
    wasxfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if wasxfail and report.skipped:
            _COUNTS["xfailed"] += 1
        elif wasxfail and report.passed:
            _COUNTS["xpassed"] += 1
        elif report.passed:
            _COUNTS["passed"] += 1
        elif report.failed:
            _COUNTS["failed"] += 1
    elif report.failed:
        _COUNTS["errors"] += 1
    elif report.skipped and report.when == "setup":
        if wasxfail:
            _COUNTS["xfailed"] += 1
        else:
            _COUNTS["skipped"] += 1


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    _STATE["exitstatus"] = int(exitstatus)
    _STATE["collected"] = int(getattr(session, "testscollected", 0) or 0)


def pytest_unconfigure(config: Any) -> None:
    folder = os.environ.get("ORCH_VERIFY_RESULTS")
    if not folder:
        return
    data = dict(_COUNTS, **_STATE)
    data["collect_only"] = bool(config.getoption("collectonly", False))
    name = f"pytest-{os.getpid()}-{time.monotonic_ns()}.json"
    try:
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            json.dump(data, f)
    except OSError:
        pass
