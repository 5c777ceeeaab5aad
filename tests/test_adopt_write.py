"""`adopt --write` only inserts lines and never changes how the plan reads (property test),
and the command line: outside any repository, --json, project suggestions, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orchestrator.cli import main
from orchestrator.plan.adopt.derive import derive
from orchestrator.plan.adopt.write import insert_checks, only_insertions
from orchestrator.plan.document import parse_plan
from tests.conftest import git

FRAGMENTS = [
    "Run the tests:\n\n    uv run pytest -q tests/test_a.py\n\nExpected:\n\n    3 passed in 0.1s\n",
    "```bash\npnpm install\npnpm test\npnpm dev\n```\n",
    "```console\n$ cargo test\ntest result: ok. 2 passed\n$ git push\n```\n",
    "- `make lint` exits 0.\n- `curl localhost:3000` returns `ok`.\n",
    "1. Build it.\n\n        go build ./... && \\\n          go test ./...\n",
    "Some prose with `inline` code and ü, 日本語, emoji ✓.\n",
    "```python\nimport os\nprint(os.getcwd())\n```\n",
    "    # Expected:\n    rm -rf /\n",
    "$ npm run typecheck\n",
    "",
]
HEADINGS = [
    "### Milestone {n}: Part {n}",
    "### M{n} — Part {n}",
    "### Phase {n}. Part {n}",
    "**Milestone {n}: Part {n}**",
]
SECTIONS = ["## Concrete Steps", "## Validation and Acceptance", "## Context and Orientation",
            "## Idempotence and Recovery", "## Decision Log"]  # fmt: skip


@st.composite
def plans(draw: st.DrawFn) -> str:
    parts = ["# A plan", "", "## Purpose / Big Picture", "", "Users gain a thing.", ""]
    parts += ["## Plan of Work", ""]
    style = draw(st.sampled_from(HEADINGS))
    for n in range(1, draw(st.integers(0, 4)) + 1):
        parts += [style.format(n=n), "", draw(st.sampled_from(FRAGMENTS))]
    for heading in draw(st.lists(st.sampled_from(SECTIONS), max_size=3, unique=True)):
        parts += [heading, "", draw(st.sampled_from(FRAGMENTS))]
        if draw(st.booleans()):
            parts += [f"Milestone {draw(st.integers(1, 4))}:", "", draw(st.sampled_from(FRAGMENTS))]
    text = "\n".join(parts)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_write_only_inserts_lines_and_keeps_the_milestones(text: str) -> None:
    path = Path("plan.md")
    before = parse_plan(text, path)
    proposal = derive(text, path)
    new, notes = insert_checks(text, path, proposal)
    assert only_insertions(text, new)
    assert new.startswith("\ufeff") == text.startswith("\ufeff")
    after = parse_plan(new, path)
    assert [m.id for m in after.milestones] == [m.id for m in before.milestones]
    placed = sum(len(m.checks) for m in after.milestones) + len(after.checks)
    if not notes:
        assert placed == len(proposal.checks)
    if "\r\n" in text:
        assert "\n" not in new.replace("\r\n", "")


PLAN = """# Tidy the importer

## Purpose / Big Picture

Imports stop failing on blank lines.

## Plan of Work

### Milestone 1: Report line numbers

Errors name the line.

### Milestone 2: Skip blank lines

Change `importer/read.py`, then run `python -m pytest -q tests/test_read.py`.

## Validation and Acceptance

- Start the dev server with `npm run dev` and import a file by hand.
"""


def test_adopt_works_outside_any_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN, encoding="utf-8")
    assert main(["adopt", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "python -m pytest -q tests/test_read.py" in out
    assert "line 15" in out
    assert "npm run dev" in out
    assert "server" in out
    assert plan.read_text(encoding="utf-8") == PLAN  # without --write nothing changes
    assert main(["adopt", "--json", str(plan)]) == 0
    proposal = json.loads(capsys.readouterr().out)
    assert [c["milestone"] for c in proposal["checks"]] == ["2"]
    assert proposal["refused"][0]["category"] == "server"


def test_inside_a_repository_the_project_test_command_is_suggested(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "pyproject.toml").write_text("[tool.pytest.ini_options]\n", encoding="utf-8")
    plan = git_repo / "plan.md"
    plan.write_text(PLAN, encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "plan")
    assert main(["adopt", "--write", str(plan)]) == 0
    capsys.readouterr()
    text = plan.read_text(encoding="utf-8")
    assert "# suggested, not from the plan" in text
    assert "python -m pytest -q\n" in text
    assert main(["check", str(plan)]) == 0
    diff = git(git_repo, "diff", "--numstat")
    assert diff.split()[1] == "0", diff  # lines added only, none deleted


def test_without_a_suggestion_an_uncovered_milestone_stays_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN, encoding="utf-8")
    assert main(["adopt", "--write", str(plan)]) == 0
    capsys.readouterr()
    assert main(["check", str(plan)]) == 2
    assert "milestone 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "no such file"), (b"\x00\x01binary", "binary"), (b"just words\n", "ExecPlan")],
)
def test_bad_input_is_one_paragraph_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, words: str
) -> None:
    plan = tmp_path / "plan.md"
    if content is not None:
        plan.write_bytes(content)
    assert main(["adopt", "--write", str(plan)]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


GO_PLAN = Path(__file__).parent / "data" / "adopt" / "go_top_level.md"


def test_check_and_run_point_to_adopt_when_the_plan_has_commands_but_no_checks(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = git_repo / "plan.md"
    plan.write_bytes(GO_PLAN.read_bytes())
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "plan")
    assert main(["check", str(plan)]) == 2
    out = capsys.readouterr().out
    assert "`orchestrator adopt` would derive 6 checks" in out
    assert f"orchestrator adopt --write {plan}" in out
    assert main(["-C", str(git_repo), "run", "plan.md"]) == 2
    err = capsys.readouterr().err
    assert "would derive 6 checks" in err
    assert "orchestrator adopt --write" in err
    assert "Traceback" not in err
    assert not (git_repo / ".agent" / "runs").exists()
    assert main(["adopt", "--write", str(plan)]) == 0
    capsys.readouterr()
    assert main(["check", str(plan)]) == 0
    assert ": hint:" not in capsys.readouterr().out


def test_no_hint_when_nothing_can_be_derived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(PLAN.replace("then run `python -m pytest -q tests/test_read.py`", ""))
    assert main(["check", str(plan)]) == 2
    assert ": hint:" not in capsys.readouterr().out


CARRY = """# Carry

## Purpose / Big Picture

Thing.

## Plan of Work

### Milestone 1: Parser

Run `pytest -q tests/test_parser.py`; `./tool.py lint src/app.py` must pass too.

### Milestone 2: Docs

Update the docs.
"""


def test_a_milestone_without_checks_keeps_the_previous_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(CARRY, encoding="utf-8")
    proposal = derive(CARRY, plan)
    carried = [c for c in proposal.checks if c.milestone == "2"]
    assert [c.command for c in carried] == [
        "pytest -q tests/test_parser.py",
        "./tool.py lint src/app.py",
    ]
    assert all(c.carried_from == "1" for c in carried)
    assert main(["adopt", "--write", str(plan)]) == 0
    assert "# carried from milestone 1 (line 11)" in plan.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(plan)]) == 0


MARKDOWNISH = st.lists(
    st.sampled_from(
        [
            *"#`$ -*>\\|:\n\r\t~[]()abcXYZ019.\"'/ü日",
            "```",
            "    ",
            "pytest -q",
            "npm run dev",
            "## Milestone 1: A\n",
            "## Validation\n",
            "Expected:\n",
            "\ufeff",
            "$ make test\n",
        ]
    ),
    max_size=120,
).map(lambda parts: "# T\n\n## Purpose\n\nx\n\n## Plan of Work\n\n" + "".join(parts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MARKDOWNISH)
@example("# T\n\n## Purpose\n\nx\n\n## Plan of Work\n\n$ make test\n#\r")  # a bare CR at the end
def test_any_text_is_read_without_a_crash(text: str) -> None:
    from orchestrator.errors import PlanError

    path = Path("plan.md")
    try:
        proposal = derive(text, path)
    except PlanError:
        return
    new, _ = insert_checks(text, path, proposal)
    assert only_insertions(text, new)


def test_an_inline_command_runs_in_its_stated_workdir(tmp_path: Path) -> None:
    text = (
        "# W\n\n## Purpose\n\nx\n\n## Validation and Acceptance\n\n"
        "1. `npm test` (workdir: `apps/web`)\n   - Pass condition: `Tests: 4 passed`\n"
        "2. `cargo test` (workdir: `/home/me/x`)\n"
    )
    checks = derive(text, tmp_path / "p.md").checks
    assert [(c.command, c.expect) for c in checks] == [
        ("cd apps/web && npm test", ["Tests: 4 passed"]),
        ("cargo test", []),
    ]


def test_a_label_heading_covers_its_subheadings(tmp_path: Path) -> None:
    text = (
        "# N\n\n## Purpose\n\nx\n\n## Plan of Work\n\n### Milestone 1: A\n\na\n\n"
        "### Milestone 2: B\n\nb\n\n## Concrete Steps\n\n### Milestone 2\n\n#### Run the tests\n\n"
        "    pytest tests/b.py\n\n### Overall\n\n#### Lint\n\n    ruff check .\n"
    )
    checks = derive(text, tmp_path / "p.md").checks
    assert [(c.command, c.milestone) for c in checks] == [
        ("pytest tests/b.py", "2"),
        ("ruff check .", None),
    ]


END_STATE = """# Shout

## Purpose / Big Picture

`greet(name, shout=True)` returns the greeting in capitals.

## Progress

- [ ] Milestone 1: add the shout flag.
- [ ] Milestone 2: document it.

## Plan of Work

### Milestone 1: add the shout flag

Add `shout` to `greet` and a test for it.

### Milestone 2: document it

Add a README section "Shouting".

## Concrete Steps

    $ python -m pytest -q
    2 passed

## Validation and Acceptance

Run `python -m pytest -q`; all tests pass. `grep -q Shouting README.md` succeeds and
`ruff check .` prints `All checks passed!`.
"""


def test_acceptance_of_the_finished_plan_checks_the_last_milestone_only(tmp_path: Path) -> None:
    # Checked after milestone 1, `grep -q Shouting README.md` and "2 passed" would ask
    # for milestone 2's work; the whole suite and a count-free lint hold after every one.
    checks = derive(END_STATE, tmp_path / "p.md").checks
    assert sorted((c.command, c.milestone or "plan", tuple(c.expect)) for c in checks) == [
        ("grep -q Shouting README.md", "2", ()),
        ("python -m pytest -q", "2", ("2 passed",)),
        ("python -m pytest -q", "plan", ()),
        ("ruff check .", "plan", ("All checks passed!",)),
    ]
    plan = tmp_path / "p.md"
    plan.write_text(END_STATE, encoding="utf-8")
    assert main(["adopt", "--write", str(plan)]) == 0
    first, second = parse_plan(plan.read_text(encoding="utf-8"), plan).milestones
    assert first.checks == []
    assert [c.command for c in second.checks] == [
        "python -m pytest -q",
        "grep -q Shouting README.md",
    ]
