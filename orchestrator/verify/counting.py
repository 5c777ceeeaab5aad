"""Counting tests: pytest through our own plugin, other runners from their summary lines.

pytest is the one runner whose counts come from a machine-readable record of
our own: every check runs with ``PYTEST_ADDOPTS=-p orchestrator_verify_probe``
and the plugin's directory on ``PYTHONPATH``, and the plugin writes one JSON
file per session into a directory outside the copy. For unittest, ``go test``,
``cargo test`` and jest/vitest the summary lines of the output are read; an
output reporting failures fails the check whatever its exit code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from orchestrator.paths import PACKAGE_DIR
from orchestrator.store.state import CountedTests

PROBE_DIR = PACKAGE_DIR / "verify" / "probe"
PROBE_PLUGIN = "orchestrator_verify_probe"
RESULTS_ENV = "ORCH_VERIFY_RESULTS"

_FIELDS = ("passed", "failed", "errors", "skipped", "xfailed", "deselected")


def probe_env(results: Path, inherited: Mapping[str, str]) -> dict[str, str]:
    """Environment additions that make every pytest session record its outcomes."""
    addopts = f"-p {PROBE_PLUGIN} -p no:cacheprovider"
    if inherited.get("PYTEST_ADDOPTS"):
        addopts = f"{inherited['PYTEST_ADDOPTS']} {addopts}"
    path = str(PROBE_DIR)
    if inherited.get("PYTHONPATH"):
        path = f"{path}:{inherited['PYTHONPATH']}"
    return {"PYTEST_ADDOPTS": addopts, "PYTHONPATH": path, RESULTS_ENV: str(results)}


def pytest_counts(results: Path) -> CountedTests | None:
    """The sum over the pytest sessions that wrote into ``results``; None if none did."""
    files = sorted(results.glob("pytest-*.json")) if results.is_dir() else []
    if not files:
        return None
    total = dict.fromkeys(_FIELDS, 0)
    sessions = 0
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            total["errors"] += 1
            continue
        if not isinstance(data, dict):
            continue
        sessions += 1
        for key in _FIELDS:
            value = data.get(key, 0)
            total[key] += value if isinstance(value, int) else 0
        if data.get("collect_only"):
            total["errors"] += 1  # a collect-only session ran nothing
    return CountedTests(source="pytest", sessions=sessions, **total)


_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ", re.M)
_UNITTEST_END = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.M)
_CARGO = re.compile(r"^test result: (ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored", re.M)
_JEST = re.compile(r"^Tests:\s+(.*\d+ total)\s*$", re.M)
_GO_FAIL = re.compile(r"^(--- FAIL: |FAIL\s|panic: )", re.M)
_GO_PASS = re.compile(r"^--- PASS: ", re.M)
_GO_SKIP = re.compile(r"^--- SKIP: ", re.M)
_PYTEST_LINE = re.compile(r"^=+ (.*\d+ (?:failed|passed|error|errors|skipped).*) in [\d.]+s", re.M)


def _kv(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        if sep and value.strip().isdigit():
            out[key.strip()] = int(value)
    return out


def output_counts(output: str) -> CountedTests | None:
    """Counts read from a runner's summary lines in ``output``, when there are any."""
    ran = [int(n) for n in _UNITTEST_RAN.findall(output)]
    if ran:
        failed = errors = skipped = xfailed = 0
        for _status, detail in _UNITTEST_END.findall(output):
            kv = _kv(detail or "")
            failed += kv.get("failures", 0)
            errors += kv.get("errors", 0) + kv.get("unexpected successes", 0)
            skipped += kv.get("skipped", 0)
            xfailed += kv.get("expected failures", 0)
        passed = max(0, sum(ran) - failed - errors - skipped - xfailed)
        return CountedTests(
            source="unittest", sessions=len(ran), passed=passed, failed=failed,
            errors=errors, skipped=skipped, xfailed=xfailed,
        )  # fmt: skip
    cargo = _CARGO.findall(output)
    if cargo:
        return CountedTests(
            source="cargo", sessions=len(cargo),
            passed=sum(int(c[1]) for c in cargo), failed=sum(int(c[2]) for c in cargo),
            skipped=sum(int(c[3]) for c in cargo),
        )  # fmt: skip
    jest = _JEST.findall(output)
    if jest:
        counts = dict.fromkeys(("passed", "failed", "skipped", "todo"), 0)
        for line in jest:
            for number, word in re.findall(r"(\d+) (\w+)", line):
                if word in counts:
                    counts[word] += int(number)
        return CountedTests(
            source="jest", sessions=len(jest), passed=counts["passed"],
            failed=counts["failed"], skipped=counts["skipped"] + counts["todo"],
        )  # fmt: skip
    if _GO_PASS.search(output) or _GO_FAIL.search(output):
        return CountedTests(
            source="go", passed=len(_GO_PASS.findall(output)),
            failed=len(_GO_FAIL.findall(output)), skipped=len(_GO_SKIP.findall(output)),
        )  # fmt: skip
    return None


def output_reports_failure(output: str) -> str | None:
    """A line of ``output`` where a known runner reports failures, if there is one."""
    for m in _PYTEST_LINE.finditer(output):
        if re.search(r"\d+ (failed|errors?)\b", m.group(1)):
            return m.group(0).strip("= ")
    counts = output_counts(output)
    if counts is not None and (counts.failed or counts.errors):
        return f"{counts.source} reported {counts.failed} failed, {counts.errors} errors"
    return None
