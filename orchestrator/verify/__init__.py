"""Verification: the checks' verdict, built so the agent cannot fool it.

The flow of one round (docs/verification.md): :mod:`.candidate` builds the
verdict tree (the candidate with the checkpoint's :mod:`.protect`-ed files),
:mod:`.workcopy` checks it out into a separate copy, :mod:`.sandbox` runs each
check under ``codex sandbox``, :mod:`.counting` and :mod:`.judge` decide each
check from its counted tests and the baseline, :mod:`.environment` and
:mod:`.weakening` add what changed around the tests, :mod:`.holdout` runs the
hidden checks, and :mod:`.facts` tells the reviewer. :mod:`.validator` is the
loop's validator (and baseline) port that ties them together.
"""

from __future__ import annotations
