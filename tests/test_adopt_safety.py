"""The safety rules one command at a time: what is adopted, what is refused and as what."""

from __future__ import annotations

import pytest

from orchestrator.plan.adopt.safety import judge_line
from orchestrator.plan.adopt.verdict import Kind

ADOPTED = [
    "pytest -q",
    "uv run pytest -q tests/",
    "PYTHONPATH=python .venv/bin/pytest -q python/tests",
    "python3 -m py_compile src/x.py",
    "python -m mypy --strict src",
    "ruff check . && ruff format --check .",
    "cargo test --offline --locked --manifest-path rust/Cargo.toml -p core --lib",
    "cargo fmt --all -- --check",
    "cargo clippy --all-targets -- -D warnings",
    "go test ./... -count=1",
    "go vet ./...",
    "make test lint",
    "pnpm -C apps/web typecheck",
    "npm test",
    "npm run build",
    "yarn test:unit",
    "npx tsc --noEmit",
    "npx vitest run src/a.test.ts",
    "bun test",
    "cd frontend && npm test",
    "pytest -q | tail -5",
    "./gradlew clean test",
    "mvn -q verify",
    "dotnet test --no-build",
    "bundle exec rspec spec/models",
    "bin/rails test",
    "python manage.py test invoices",
    "git diff --check",
    "diff -u expected.txt actual.txt",
    "grep -q 'version = \"2\"' Cargo.toml",
    "timeout 120 pytest -q",
    "bash scripts/check.sh",
    "deno fmt --check",
    "terraform validate",
    "pre-commit run --all-files",
    "source .venv/bin/activate && pytest -q",
    ". .venv/bin/activate; python -m pytest",
    "export CI=1 && npm test",
    "set -euo pipefail; make test",
    "cargo xtask test",
    "nix flake check",
    "nix develop -c pytest -q",
    "dotnet format --verify-no-changes",
    "dart format --output=none --set-exit-if-changed .",
    "mix format --check-formatted",
    "mix test",
    "vite build",
    "npx playwright test",
]

REFUSED = [
    ("pnpm dev", Kind.SERVER),
    ("npm start", Kind.SERVER),
    ("uvicorn app:app --reload", Kind.SERVER),
    ("python -m http.server 8000", Kind.SERVER),
    ("npm test -- --watch", Kind.SERVER),
    ("tsc -w", Kind.SERVER),
    ("tail -f log/dev.log", Kind.SERVER),
    ("python app.py", Kind.SERVER),
    ("celery -A proj worker &", Kind.SERVER),
    ("dotnet run --project src/Api", Kind.SERVER),
    ("vercel deploy --prod", Kind.DEPLOY),
    ("git push origin main", Kind.DEPLOY),
    ("supabase db push", Kind.DEPLOY),
    ("terraform apply -auto-approve", Kind.DEPLOY),
    ("npm publish", Kind.DEPLOY),
    ("make deploy", Kind.DEPLOY),
    ("rm -rf build", Kind.DESTRUCTIVE),
    ("git reset --hard origin/main", Kind.DESTRUCTIVE),
    ("git clean -fdx", Kind.DESTRUCTIVE),
    ("make clean", Kind.DESTRUCTIVE),
    ("gh pr create --fill", Kind.EXTERNAL),
    ("aws s3 ls", Kind.EXTERNAL),
    ("docker compose up", Kind.EXTERNAL),
    ("curl https://api.example.com/v1", Kind.EXTERNAL),
    ("psql -c 'DROP DATABASE app'", Kind.EXTERNAL),
    ("pytest 2>&1 | tee /tmp/out.log", Kind.EXTERNAL),
    ("git commit -m wip", Kind.INTERACTIVE),
    ("npx create-next-app@latest web", Kind.INTERACTIVE),
    ("vim src/a.py", Kind.INTERACTIVE),
    ("python", Kind.INTERACTIVE),
    ("apt install -y jq", Kind.SETUP),
    ("sudo make install", Kind.SETUP),
    ("npm i -g pnpm", Kind.SETUP),
    ("pip install -e .", Kind.SETUP),
    ("uv sync", Kind.SETUP),
    ("source ~/.bashrc && pytest", Kind.SETUP),
    ("export PATH=/opt/tool/bin && pytest", Kind.MACHINE_PATH),
    ("curl localhost:8080/health", Kind.NEEDS_SERVICE),
    ("COMMERCE_DB_DSN=<test-dsn> go test ./...", Kind.PLACEHOLDER),
    ("pytest $(git diff --name-only)", Kind.SHELL),
    ("go test ./... || true", Kind.CANNOT_FAIL),
    (r".\gradlew.bat test", Kind.NOT_PORTABLE),
    ("Get-ChildItem", Kind.NOT_PORTABLE),
    ("cat README.md", Kind.INSPECT),
    ("git status", Kind.INSPECT),
    ("ruff format .", Kind.EDIT),
    ("dotnet format", Kind.EDIT),
    ("dart format lib", Kind.EDIT),
    ("mix format", Kind.EDIT),
    ("mix phx.server", Kind.SERVER),
    ("vite", Kind.SERVER),
    ("vite preview", Kind.SERVER),
    ("npx cypress open", Kind.SERVER),
    ("sed -i s/a/b/ x.txt", Kind.EDIT),
    ("/Users/me/proj/.venv/bin/pytest", Kind.MACHINE_PATH),
    ("make", Kind.UNKNOWN),
    ("frobnicate --all", Kind.UNKNOWN),
]


@pytest.mark.parametrize("command", ADOPTED)
def test_checks_are_adopted(command: str) -> None:
    verdict = judge_line(command)
    assert verdict.kind is Kind.CHECK, verdict
    assert verdict.reason


@pytest.mark.parametrize(("command", "kind"), REFUSED)
def test_unsafe_commands_are_refused_with_their_reason(command: str, kind: Kind) -> None:
    verdict = judge_line(command)
    assert verdict.kind is kind, verdict
    assert not verdict.adoptable
    assert verdict.reason


def test_block_context_carries_into_later_commands() -> None:
    from orchestrator.plan.adopt.sources import block_commands

    lines = ["source .venv/bin/activate", "cd web", "export CI=1", "npm test", "cd /abs/x", "ls"]
    found = block_commands(list(enumerate(lines, 1)), "bash block", strict=False)
    assert [f.command for f in found] == [
        ". .venv/bin/activate && cd web && export CI=1 && npm test",
        ". .venv/bin/activate && export CI=1 && ls",
    ]


def test_a_project_program_is_a_program_not_a_check() -> None:
    assert judge_line("cargo run -- parse samples/a.txt").kind is Kind.PROGRAM
    assert judge_line("./target/release/logq count x.jsonl").kind is Kind.PROGRAM
    assert judge_line("cargo run -- serve --port 8080").kind is Kind.SERVER
