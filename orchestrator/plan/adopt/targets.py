"""Script and target names (``npm run X``, ``make X``, ``scripts/X.sh``) read by their words."""

from __future__ import annotations

import re
from collections.abc import Sequence

from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v

_SUBCOMMAND = re.compile(r"^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$")
_PARTS = re.compile(r"[-_:./\s]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

_DEPLOY = {"deploy", "release", "publish", "push", "ship", "upload", "promote", "rollout"}
_DESTRUCTIVE = {"clean", "clear", "reset", "nuke", "purge", "drop", "wipe", "destroy", "prune"}
_DESTRUCTIVE |= {"rm", "uninstall", "distclean", "clobber", "teardown"}
_SERVER = {"dev", "serve", "server", "start", "watch", "preview", "up", "storybook", "emulator"}
_SERVER |= {"emulators", "develop", "live", "hot", "daemon", "worker", "listen", "open", "ui"}
_SETUP = {"install", "setup", "deps", "bootstrap", "init", "prepare", "provision", "vendor"}
_SETUP |= {"download", "fetch", "update", "upgrade", "venv", "link", "postinstall"}
_EXTERNAL = {"db", "database", "supabase", "vercel", "aws", "gcp", "azure", "k8s", "kube"}
_EXTERNAL |= {"terraform", "docker", "image", "container", "ssh", "remote", "prod"}
_EXTERNAL |= {"production", "staging", "login", "auth"}
_EDIT = {"fix", "format", "fmt", "write", "generate", "gen", "codegen", "migrate", "seed"}
_EDIT |= {"sync", "bump", "version", "changeset", "autofix", "snapshot", "snapshots"}
_CHECK = {"test", "tests", "spec", "specs", "check", "checks", "lint", "lints", "typecheck"}
_CHECK |= {"type", "types", "tsc", "verify", "validate", "validation", "ci", "build"}
_CHECK |= {"compile", "smoke", "e2e", "unit", "integration", "coverage", "cov", "vet"}
_CHECK |= {"clippy", "mypy", "pyright", "ruff", "eslint", "jest", "vitest", "pytest", "qa"}
_CHECK |= {"gate", "quality", "static", "analyze", "analyse", "sanity", "acceptance"}
_CHECK |= {"doctest", "fmtcheck", "formatcheck", "stylecheck", "knip", "depcheck", "audit"}
_CHECK |= {"tsc", "typecheck", "typing", "precommit", "assert", "conformance", "golden"}


def words(name: str) -> set[str]:
    name = _CAMEL.sub(" ", name)
    return {p.casefold() for p in _PARTS.split(name) if p}


def classify_name(name: str, what: str) -> Verdict:
    """The verdict for running a script or target named ``name`` (``what`` says which)."""
    parts = words(name)
    label = f"{what} `{name}`"
    if parts & _DEPLOY:
        return v(Kind.DEPLOY, f"{label} deploys, publishes or pushes")
    if parts & _DESTRUCTIVE:
        return v(Kind.DESTRUCTIVE, f"{label} deletes or resets things")
    if parts & _SERVER:
        return v(Kind.SERVER, f"{label} starts a server or watcher that does not stop by itself")
    if parts & _SETUP:
        return v(Kind.SETUP, f"{label} installs or sets up dependencies")
    if parts & _EXTERNAL:
        return v(Kind.EXTERNAL, f"{label} talks to a database, container or cloud account")
    if parts & _EDIT and not parts & _CHECK:
        return v(Kind.EDIT, f"{label} rewrites or generates files: not a check")
    if parts & _CHECK:
        return check(f"{label} tests, lints, type-checks or builds the project")
    return v(Kind.UNKNOWN, f"{label}: its name does not say it is a check (test, lint, build, ...)")


def script_name(path: str, args: Sequence[str] = ()) -> Verdict:
    """A script run by path (``./scripts/check.sh``): judged by its file name, else by its
    subcommand (``./x.py test``, ``bin/tool lint``)."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    verdict = classify_name(stem, "script")
    if verdict.kind is not Kind.UNKNOWN:
        return verdict
    sub = next((a for a in args if not a.startswith("-")), "")
    if _SUBCOMMAND.match(sub):
        by_sub = classify_name(sub, f"`{path}` subcommand")
        if by_sub.kind is not Kind.UNKNOWN:
            return by_sub
    if words(stem) & {"app", "main", "api", "web", "bot", "manage", "index", "wsgi", "asgi"}:
        return v(Kind.SERVER, f"`{path}` looks like the application itself (it may serve)")
    return v(Kind.PROGRAM, f"runs `{path}`, a program adopt does not know")
