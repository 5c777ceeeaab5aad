from __future__ import annotations

import pytest

from orchestrator.milestone.fingerprint import fingerprint, normalize_output

RUN_A = """\
============================= test session starts ==============================
2026-11-21T23:59:59.123Z collecting in /tmp/pytest-of-u/pytest-3/test_x0/repo
FAILED tests/test_a.py::test_one - AssertionError: <Foo object at 0x7f3a2b1c9d10>
worker pid=12345 exited
1 failed, 3 passed in 0.12s
"""
RUN_B = """\
============================= test session starts ==============================
2026-11-22T00:03:07.999Z collecting in /tmp/pytest-of-u/pytest-9/test_x0/repo
FAILED tests/test_a.py::test_one - AssertionError: <Foo object at 0x7f00deadbeef>
worker pid=999 exited
1 failed, 3 passed in 1.57s
"""


def test_noise_is_removed() -> None:
    assert normalize_output(RUN_A) == normalize_output(RUN_B)
    assert fingerprint(RUN_A) == fingerprint(RUN_B)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("took 12ms", "took 340 ms"),
        ("at 12:01:02", "at 23:59:59.5"),
        ("done in 3m12s", "done in 1m2s"),
        ("line  \r\n", "line\n"),
        ("tmpab12cd34/file", "tmpzz99yy88/file"),
    ],
)
def test_each_kind_of_noise(a: str, b: str) -> None:
    assert normalize_output(a) == normalize_output(b)


def test_real_changes_change_the_fingerprint() -> None:
    changed = RUN_B.replace("test_one", "test_two")
    assert fingerprint(RUN_A) != fingerprint(changed)
    assert fingerprint("x = a[0]") != fingerprint("x = a[1]")


def test_part_boundaries_matter() -> None:
    assert fingerprint("ab", "c") != fingerprint("a", "bc")
    assert fingerprint("a", "b") != fingerprint("b", "a")
    assert len(fingerprint()) == 64
