"""Python: the interpreter, ``-m`` modules, test runners, linters, and environment managers."""

from __future__ import annotations

import re

from orchestrator.plan.adopt.rules import (
    DEPLOY_WHY,
    EDIT_WHY,
    SERVER_WHY,
    SETUP_WHY,
    Handler,
    Judge,
    always,
    first,
    has,
    many,
    positional,
    watching,
)
from orchestrator.plan.adopt.targets import classify_name, script_name
from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v

_SERVING_CODE = re.compile(r"\b(?:run|serve|serve_forever|listen|mainloop|app\.run|sleep)\s*\(")
_CHECK_MODULES = {"pytest", "unittest", "mypy", "pyright", "pylint", "flake8", "compileall",
                  "py_compile", "doctest", "tox", "nox", "pyflakes", "pycodestyle", "bandit",
                  "pydocstyle", "build", "pip_audit", "vulture", "interrogate", "coverage",
                  "sphinx", "hypothesis", "behave", "nose2", "ward", "slotscheck", "deptry",
                  "basedpyright", "pytype", "pyre", "ty", "radon", "xenon", "tach",
                  "import_linter", "lint_imports", "djlint", "mkdocs"}  # fmt: skip
_SERVER_MODULES = {"http.server", "uvicorn", "gunicorn", "hypercorn", "daphne", "flask",
                   "streamlit", "gradio", "jupyter", "notebook", "jupyterlab", "celery",
                   "SimpleHTTPServer", "smtpd", "aiosmtpd", "ptw", "pytest_watch", "watchdog",
                   "livereload", "textual", "panel", "dash", "granian"}  # fmt: skip


def _module(mod: str, rest: list[str], judge: Judge) -> Verdict:
    if mod in _SERVER_MODULES or mod.endswith((".server", ".serve")):
        return v(Kind.SERVER, f"`python -m {mod}` {SERVER_WHY}")
    if mod in {"pip"}:
        return _pip(rest, judge)
    if mod in {"venv", "virtualenv", "ensurepip", "pipx", "playwright"}:
        if mod == "playwright" and first(rest) == "test":
            return check("playwright tests")
        return v(Kind.SETUP, f"`python -m {mod}` {SETUP_WHY}")
    if mod in {"twine"}:
        return v(Kind.DEPLOY, DEPLOY_WHY)
    if mod in {"black", "isort", "ruff", "autopep8", "yapf", "pre_commit"}:
        return judge([mod.replace("_", "-"), *rest])
    if mod == "mkdocs" and first(rest) != "build":
        return v(Kind.SERVER, f"`mkdocs {first(rest)}` {SERVER_WHY}")
    if mod == "django":
        return _django(rest)
    if mod in _CHECK_MODULES:
        if has(rest, "-f", "--looponfail"):
            return v(Kind.SERVER, "re-runs on every change and never stops")
        if has(rest, "--pdb", "--trace"):
            return v(Kind.INTERACTIVE, "stops in the debugger")
        return check(f"`python -m {mod}` tests, lints or type-checks and exits")
    if mod in {"json.tool", "pydoc", "site", "sysconfig", "platform", "pip_freeze"}:
        return v(Kind.INSPECT, f"`python -m {mod}` prints information")
    return v(Kind.PROGRAM, f"`python -m {mod}` runs the project's own module")


def _django(rest: list[str]) -> Verdict:
    sub = first(rest)
    if sub in {"test", "check"} or (sub == "makemigrations" and has(rest, "--check")):
        return check(f"django `{sub}` checks and exits")
    if sub in {"runserver", "runserver_plus", "runworker"}:
        return v(Kind.SERVER, SERVER_WHY)
    if sub in {"migrate", "flush", "loaddata", "dbshell", "createsuperuser"}:
        return v(Kind.EXTERNAL, "changes or opens the database")
    if sub in {"shell", "shell_plus"}:
        return v(Kind.INTERACTIVE, "opens a shell")
    return classify_name(sub, "django command")


def _python(args: list[str], judge: Judge) -> Verdict:
    i = 0
    while i < len(args) and args[i] in {"-u", "-B", "-O", "-I", "-E", "-s", "-S", "-X", "-W"}:
        i += 2 if args[i] in {"-X", "-W"} else 1
    args = args[i:]
    if not args:
        return v(Kind.INTERACTIVE, "an interactive Python shell")
    if args[0] == "-m" and len(args) > 1:
        return _module(args[1], args[2:], judge)
    if args[0] == "-c" and len(args) > 1:
        if _SERVING_CODE.search(args[1]) or "input(" in args[1]:
            return v(Kind.UNKNOWN, "inline Python that may serve, wait or ask for input")
        return check("inline Python that exits (an import or assertion)")
    if args[0] in {"-V", "--version"}:
        return v(Kind.INSPECT, "prints the version")
    if args[0] == "-":
        return v(Kind.SHELL, "reads a script from stdin")
    script = args[0]
    if script.rsplit("/", 1)[-1] == "manage.py":
        return _django(args[1:])
    return script_name(script, args[1:])


def _pip(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub == "check":
        return check("`pip check` fails on broken requirements")
    if sub in {"list", "show", "freeze", "--version", "-V"}:
        return v(Kind.INSPECT, "prints information")
    return v(Kind.SETUP, f"`pip {sub}` {SETUP_WHY}")


def _runner(tool: str, setup: set[str], value_opts: frozenset[str]) -> Handler:
    """``uv run X`` / ``poetry run X`` / ``pdm run X``: judge X (a program or a script name)."""

    def handler(args: list[str], judge: Judge) -> Verdict:
        sub = first(args, value_opts)
        if sub == "run":
            rest = args[args.index("run") + 1 :]
            while rest and rest[0].startswith("-"):
                opt = rest.pop(0)
                if opt in value_opts and "=" not in opt and rest:
                    rest.pop(0)
            if not rest:
                return v(Kind.UNKNOWN, f"`{tool} run` without a command")
            from orchestrator.plan.adopt.programs import known

            if known(rest[0]) or "/" in rest[0] or rest[0].endswith(".py"):
                return judge(rest)
            return classify_name(rest[0], f"{tool} script")
        if sub in setup:
            return v(Kind.SETUP, f"`{tool} {sub}` {SETUP_WHY}")
        if sub in {"publish", "upload"}:
            return v(Kind.DEPLOY, f"`{tool} {sub}` {DEPLOY_WHY}")
        if sub in {"shell"}:
            return v(Kind.INTERACTIVE, "opens a shell")
        if sub in {"check", "build", "test", "lint"}:
            return check(f"`{tool} {sub}` checks and exits")
        if sub == "tool" and first(args[1:]) == "run":
            return _uvx(args[args.index("run") + 1 :], judge)
        return v(Kind.UNKNOWN, f"`{tool} {sub}`: not a subcommand adopt knows to be a check")

    return handler


_UV_VALUE = frozenset({"--with", "--extra", "--group", "--package", "--directory", "--project",
                       "-p", "--python", "--env-file", "--only-group", "--no-group", "-C",
                       "--index", "--index-url", "--from"})  # fmt: skip


def _uvx(args: list[str], judge: Judge) -> Verdict:
    words = positional(args, _UV_VALUE)
    if not words:
        return v(Kind.UNKNOWN, "uvx without a tool")
    from orchestrator.plan.adopt.programs import known

    tool = words[0].split("@", 1)[0]
    if known(tool):
        return judge([tool, *args[args.index(words[0]) + 1 :]])
    return v(Kind.EXTERNAL, f"`uvx {tool}` downloads and runs a package from the registry")


def _formatter(check_flags: tuple[str, ...]) -> Handler:
    def handler(args: list[str], judge: Judge) -> Verdict:
        if has(args, *check_flags):
            return check("a formatter in check mode: fails on unformatted code")
        return v(Kind.EDIT, f"formats files in place: {EDIT_WHY}")

    return handler


def _ruff(args: list[str], judge: Judge) -> Verdict:
    sub = first(args, frozenset({"--config"}))
    if has(args, "--fix", "--unsafe-fixes", "--watch", "-w"):
        return v(Kind.EDIT, f"`ruff --fix/--watch` {EDIT_WHY}")
    if sub == "format":
        return _formatter(("--check", "--diff"))(args, judge)
    return check("`ruff` lints and exits")


def _pytest(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-f", "--looponfail"):
        return v(Kind.SERVER, "re-runs on every change and never stops")
    if has(args, "--pdb", "--trace"):
        return v(Kind.INTERACTIVE, "stops in the debugger")
    return watching(args) or check("`pytest` runs the tests and exits")


_SETUP_TOOLS = {"install", "add", "remove", "sync", "lock", "update", "venv", "pip", "init",
                "self", "python", "tool", "new"}  # fmt: skip
_RUN_VALUE = frozenset({"-e", "--env", "-p", "--project", "-C", "--directory"}) | _UV_VALUE

HANDLERS: dict[str, Handler] = {
    "python": _python,
    "pip": _pip,
    "pytest": _pytest,
    "py.test": _pytest,
    "ruff": _ruff,
    "black": _formatter(("--check", "--diff")),
    "isort": _formatter(("--check", "--check-only", "--diff", "-c")),
    "autopep8": _formatter(("--diff",)),
    "yapf": _formatter(("--diff", "-d")),
    "uv": _runner("uv", _SETUP_TOOLS, _RUN_VALUE),
    "poetry": _runner("poetry", _SETUP_TOOLS, _RUN_VALUE),
    "pdm": _runner("pdm", _SETUP_TOOLS, _RUN_VALUE),
    "pipenv": _runner("pipenv", _SETUP_TOOLS, _RUN_VALUE),
    "rye": _runner("rye", _SETUP_TOOLS, _RUN_VALUE),
    "hatch": _runner("hatch", _SETUP_TOOLS | {"env"}, _RUN_VALUE),
    "pixi": _runner("pixi", _SETUP_TOOLS, _RUN_VALUE),
    "uvx": _uvx,
    "pipx": lambda a, j: (
        _uvx(a[a.index("run") + 1 :], j)
        if first(a) == "run"
        else v(Kind.SETUP, f"`pipx {first(a)}` {SETUP_WHY}")
    ),
    "tox": lambda a, j: (
        v(Kind.SETUP, "`tox devenv` sets up an environment")
        if first(a) == "devenv"
        else check("`tox` runs the test environments and exits")
    ),
    "nox": lambda a, j: check("`nox` runs its sessions and exits"),
    "coverage": lambda a, j: (
        v(Kind.EDIT, "`coverage erase` deletes data") if first(a) == "erase" else check("coverage")
    ),
    "django-admin": lambda a, j: _django(a),
    **many(
        [
            "ptw",
            "pytest-watch",
            "uvicorn",
            "gunicorn",
            "hypercorn",
            "daphne",
            "granian",
            "streamlit",
            "celery",
            "jupyter",
        ],
        always(Kind.SERVER, SERVER_WHY),
    ),  # fmt: skip
    "flask": lambda a, j: (
        v(Kind.SERVER, SERVER_WHY) if first(a) in {"run", ""} else classify_name(first(a), "flask")
    ),
    "alembic": always(Kind.EXTERNAL, "changes a database schema"),
    "mkdocs": lambda a, j: (
        check("`mkdocs build` builds the docs")
        if first(a) == "build"
        else v(Kind.SERVER, SERVER_WHY)
    ),
    "sphinx-build": always(Kind.CHECK, "builds the docs and exits"),
    **many(
        [
            "mypy",
            "pyright",
            "basedpyright",
            "pylint",
            "flake8",
            "bandit",
            "pydocstyle",
            "pyflakes",
            "pycodestyle",
            "vulture",
            "interrogate",
            "deptry",
            "pip-audit",
            "ty",
            "behave",
            "nose2",
            "lint-imports",
            "slotscheck",
            "pytype",
            "tach",
            "djlint",
        ],
        always(Kind.CHECK, "a Python linter, type checker or test runner that exits"),
    ),  # fmt: skip
    "virtualenv": always(Kind.SETUP, SETUP_WHY),
    "ipython": always(Kind.INTERACTIVE, "an interactive shell"),
}
