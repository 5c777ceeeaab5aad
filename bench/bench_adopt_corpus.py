"""adopt on the labelled corpus (tests/data/adopt): how much it adopts, how safely.

Prints, per plan and in total: labelled check commands adopted (recall), adopted
commands that are labelled checks (precision over the labelled ones), labelled
unsafe commands adopted (must be 0), whether `check` passes after `adopt --write`,
and whether the write only inserted lines. Run:
`.venv/bin/python bench/bench_adopt_corpus.py`.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.cli import main  # noqa: E402
from orchestrator.plan.adopt.derive import derive  # noqa: E402
from orchestrator.plan.adopt.write import only_insertions  # noqa: E402
from orchestrator.plan.text import read_plan_text  # noqa: E402
from tests.adopt_corpus import corpus, norm  # noqa: E402


def _quiet(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def run() -> None:
    totals = dict.fromkeys(
        ["legit", "legit_adopted", "unsafe", "unsafe_adopted", "adopted", "unlabelled", "refused"],
        0,
    )
    runnable = want_runnable = inserted_only = plans = 0
    print(f"{'plan':28} {'legit':>9} {'unsafe':>7} {'adopted':>8} {'refused':>8}  runnable")
    with tempfile.TemporaryDirectory() as tmp:
        for case in corpus():
            plans += 1
            text = read_plan_text(case.plan)
            proposal = derive(text, case.plan)
            adopted = {norm(c.command) for c in proposal.checks}
            legit = {norm(x["command"]) for x in case.adopt}
            unsafe = {norm(x) for x in case.refuse}
            hit = len(legit & adopted)
            bad = len(unsafe & adopted)
            copy = Path(tmp) / case.plan.name
            shutil.copyfile(case.plan, copy)
            _quiet(["adopt", "--write", str(copy)])
            ok = _quiet(["check", str(copy)]) == 0
            inserted_only += only_insertions(text, read_plan_text(copy))
            want_runnable += case.runnable_after_write
            runnable += ok and case.runnable_after_write
            totals["legit"] += len(legit)
            totals["legit_adopted"] += hit
            totals["unsafe"] += len(unsafe)
            totals["unsafe_adopted"] += bad
            totals["adopted"] += len(adopted)
            totals["unlabelled"] += len(adopted - legit - unsafe)
            totals["refused"] += len(proposal.refused)
            print(
                f"{case.name:28} {hit:>4}/{len(legit):<4} {bad:>3}/{len(unsafe):<3} "
                f"{len(adopted):>8} {len(proposal.refused):>8}  {'yes' if ok else 'no'}"
            )
    labelled_adopted = totals["legit_adopted"] + totals["unsafe_adopted"]
    print()
    print(f"plans: {plans}; runnable after --write: {runnable} of {want_runnable} expected")
    print(f"only insertions: {inserted_only} of {plans}")
    print(
        f"legit check commands adopted (recall): {totals['legit_adopted']}/{totals['legit']} "
        f"= {totals['legit_adopted'] / max(1, totals['legit']):.0%}"
    )
    print(
        f"adopted precision over labelled commands: {totals['legit_adopted']}/"
        f"{labelled_adopted} = {totals['legit_adopted'] / max(1, labelled_adopted):.0%} "
        f"({totals['unlabelled']} adopted commands carry no label)"
    )
    print(
        f"unsafe commands adopted: {totals['unsafe_adopted']}/{totals['unsafe']}; "
        f"refused (recall of refusals): {totals['unsafe'] - totals['unsafe_adopted']}/"
        f"{totals['unsafe']}"
    )


if __name__ == "__main__":
    run()
