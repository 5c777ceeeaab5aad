"""JavaScript and TypeScript: package managers, their scripts, runners and linters."""

from __future__ import annotations

from orchestrator.plan.adopt.rules import (
    DEPLOY_WHY,
    EDIT_WHY,
    RUN_WHY,
    SERVER_WHY,
    SETUP_WHY,
    Handler,
    Judge,
    always,
    first,
    has,
    many,
    positional,
    sub_table,
    watching,
)
from orchestrator.plan.adopt.targets import classify_name, script_name
from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v

_PM_VALUE = frozenset({"-C", "--dir", "--filter", "-F", "--prefix", "--cwd", "-w",
                       "--workspace", "--cache", "--reporter", "--config"})  # fmt: skip
_PM_SETUP = {"install", "i", "ci", "add", "update", "up", "upgrade", "uninstall", "remove", "rm",
             "link", "unlink", "rebuild", "dedupe", "prune", "import", "fetch", "setup",
             "patch", "patch-commit", "env", "set", "config", "login", "logout",
             "adduser"}  # fmt: skip
_PM_INSPECT = {"ls", "list", "view", "info", "why", "outdated", "bin", "root", "--version", "-v",
               "version", "help", "doctor", "licenses", "explain", "search"}  # fmt: skip


def _script(tool: str, name: str, rest: list[str]) -> Verdict:
    w = watching(rest)
    if w is not None:
        return w
    return classify_name(name, f"{tool} script")


def _package_manager(tool: str) -> Handler:
    def handler(args: list[str], judge: Judge) -> Verdict:
        words = positional(args, _PM_VALUE)
        if not words:
            if tool == "yarn":
                return v(Kind.SETUP, f"`yarn` installs dependencies: {SETUP_WHY}")
            return v(Kind.UNKNOWN, f"`{tool}` without a command")
        sub = words[0]
        rest = args[args.index(sub) + 1 :]
        if sub in {"run", "run-script", "rum", "urn"}:
            name = first(rest, _PM_VALUE)
            if not name:
                return v(Kind.INSPECT, "lists the scripts")
            return _script(tool, name, rest[rest.index(name) + 1 :])
        if sub in {"test", "t", "tst"}:
            return _script(tool, "test", rest)
        if sub in {"start", "dev", "serve", "preview"}:
            return v(Kind.SERVER, f"`{tool} {sub}` {SERVER_WHY}")
        if sub in _PM_SETUP:
            return v(Kind.SETUP, f"`{tool} {sub}` {SETUP_WHY}")
        if sub in {"publish", "deploy", "pack", "release"}:
            return v(Kind.DEPLOY, f"`{tool} {sub}` {DEPLOY_WHY}")
        if sub in {"init", "create"}:
            return v(Kind.INTERACTIVE, f"`{tool} {sub}` scaffolds a project and asks questions")
        if sub in _PM_INSPECT:
            return v(Kind.INSPECT, f"`{tool} {sub}` prints information")
        if sub in {"exec", "dlx", "x"}:
            return _npx(rest, judge)
        if sub == "audit":
            return v(Kind.EXTERNAL, f"`{tool} audit` asks the registry")
        if sub == "workspace" and len(words) >= 3:
            return _script(tool, words[2], rest[rest.index(words[2]) + 1 :])
        if tool == "npm":
            return v(Kind.UNKNOWN, f"`npm {sub}`: not a command adopt knows to be a check")
        if tool == "bun" and (sub.endswith((".ts", ".js", ".tsx", ".mjs")) or "/" in sub):
            return script_name(sub)
        return _script(tool, sub, rest)

    return handler


_NPX_VALUE = frozenset({"-p", "--package", "-c", "--call"})


def _npx(args: list[str], judge: Judge) -> Verdict:
    words = positional(args, _NPX_VALUE)
    if not words:
        return v(Kind.UNKNOWN, "npx without a tool")
    tool = words[0].split("@", 1)[0] if not words[0].startswith("@") else words[0]
    rest = args[args.index(words[0]) + 1 :]
    if tool.startswith("create-") or "/create-" in tool:
        return v(Kind.INTERACTIVE, f"`{tool}` scaffolds a project and asks questions")
    from orchestrator.plan.adopt.programs import known

    if known(tool):
        return judge([tool, *rest])
    return v(Kind.EXTERNAL, f"`npx {tool}` may download and run a package from the registry")


def _flag_mode(
    name: str, edit_flags: tuple[str, ...], check_flags: tuple[str, ...] = ()
) -> Handler:
    def handler(args: list[str], judge: Judge) -> Verdict:
        w = watching(args)
        if w is not None:
            return w
        if edit_flags and has(args, *edit_flags):
            return v(Kind.EDIT, f"`{name}` with {'/'.join(edit_flags)} {EDIT_WHY}")
        if check_flags and not has(args, *check_flags):
            return v(Kind.INSPECT, f"`{name}` without {check_flags[0]} prints, it does not check")
        return check(f"`{name}` checks and exits")

    return handler


def _tsc(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-w", "--watch"):
        return v(Kind.SERVER, SERVER_WHY)
    return check("`tsc` type-checks or builds and exits")


def _vitest(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub in {"watch", "dev"} or has(args, "--watch", "-w", "--ui"):
        return v(Kind.SERVER, SERVER_WHY)
    return check("`vitest` runs the tests once (non-interactive runs do not watch)")


def _jest(args: list[str], judge: Judge) -> Verdict:
    if has(args, "--watch", "--watchAll"):
        return v(Kind.SERVER, SERVER_WHY)
    return check("`jest` runs the tests and exits")


def _sub_only(tool: str, checks: set[str], servers: set[str]) -> Handler:
    """A dev tool whose bare form and ``servers`` subcommands serve until stopped."""
    serving = (Kind.SERVER, SERVER_WHY)
    refused = {"": serving, **dict.fromkeys(servers, serving), "install": (Kind.SETUP, SETUP_WHY)}
    return sub_table(tool, checks, refused)


def _node(args: list[str], judge: Judge) -> Verdict:
    if has(args, "--test"):
        return check("`node --test` runs the tests and exits")
    if has(args, "--watch"):
        return v(Kind.SERVER, SERVER_WHY)
    if has(args, "-e", "--eval", "-p", "--print"):
        return check("inline JavaScript that exits")
    words = positional(args)
    if not words:
        return v(Kind.INTERACTIVE, "an interactive Node shell")
    if has(args, "--version", "-v"):
        return v(Kind.INSPECT, "prints the version")
    return script_name(words[0], words[1:])


def _deno(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub == "fmt":
        return check("`deno fmt --check`") if has(args, "--check") else v(Kind.EDIT, EDIT_WHY)
    if sub in {"test", "lint", "check", "compile", "bench", "doc"}:
        return watching(args) or check(f"`deno {sub}` checks and exits")
    if sub == "task":
        name = first(args[args.index("task") + 1 :])
        return classify_name(name, "deno task")
    if sub in {"run", "serve"}:
        return v(Kind.SERVER if sub == "serve" else Kind.PROGRAM, f"`deno {sub}` {RUN_WHY}")
    if sub in {"install", "add", "cache"}:
        return v(Kind.SETUP, f"`deno {sub}` {SETUP_WHY}")
    if sub in {"deploy"}:
        return v(Kind.DEPLOY, DEPLOY_WHY)
    return v(Kind.UNKNOWN, f"`deno {sub}`: not a subcommand adopt knows to be a check")


def _mono(tool: str) -> Handler:
    """``turbo run test``, ``nx run-many -t lint``, ``lerna run build``: judge the task names."""

    def handler(args: list[str], judge: Judge) -> Verdict:
        names = [a for a in positional(args, frozenset({"--filter", "-p", "--projects", "--scope"}))
                 if a not in {"run", "run-many", "affected", "exec"}]  # fmt: skip
        for i, a in enumerate(args):
            if a in {"-t", "--target", "--targets"} and i + 1 < len(args):
                names += args[i + 1].split(",")
        if not names:
            return v(Kind.UNKNOWN, f"`{tool}` without a task")
        verdicts = [classify_name(n.split(":")[-1], f"{tool} task") for n in names]
        from orchestrator.plan.adopt.verdict import worst

        return worst(verdicts)

    return handler


HANDLERS: dict[str, Handler] = {
    "npm": _package_manager("npm"),
    "pnpm": _package_manager("pnpm"),
    "yarn": _package_manager("yarn"),
    "bun": lambda a, j: (
        check("`bun test` runs the tests and exits")
        if first(a) == "test" and not has(a, "--watch")
        else _package_manager("bun")(a, j)
    ),
    "npx": _npx,
    "bunx": _npx,
    "pnpx": _npx,
    "node": _node,
    "tsx": lambda a, j: v(Kind.SERVER, SERVER_WHY) if has(a, "watch") else _node(a, j),
    "ts-node": _node,
    "deno": _deno,
    "tsc": _tsc,
    "vue-tsc": _tsc,
    "svelte-check": _tsc,
    "jest": _jest,
    "vitest": _vitest,
    "mocha": _jest,
    "ava": _jest,
    "c8": lambda a, j: j(a) if a else v(Kind.UNKNOWN, "c8 without a command"),
    "nyc": lambda a, j: j(a) if a else v(Kind.UNKNOWN, "nyc without a command"),
    "eslint": _flag_mode("eslint", ("--fix",)),
    "prettier": _flag_mode(
        "prettier", ("--write", "-w"), ("--check", "-c", "--list-different", "-l")
    ),
    "biome": _flag_mode("biome", ("--write", "--apply", "--fix", "--apply-unsafe")),
    "stylelint": _flag_mode("stylelint", ("--fix",)),
    "oxlint": _flag_mode("oxlint", ("--fix",)),
    "knip": always(Kind.CHECK, "`knip` reports unused code and exits"),
    "depcheck": always(Kind.CHECK, "`depcheck` checks dependencies and exits"),
    "playwright": _sub_only("playwright", {"test"}, {"show-report", "codegen", "open", "ui"}),
    "cypress": _sub_only("cypress", {"run"}, {"open"}),
    "vite": _sub_only("vite", {"build", "optimize"}, {"dev", "serve", "preview"}),
    "next": _sub_only("next", {"build", "lint"}, {"dev", "start"}),
    "nuxt": _sub_only("nuxt", {"build", "typecheck", "generate"}, {"dev", "preview", "start"}),
    "astro": _sub_only("astro", {"check", "build"}, {"dev", "preview"}),
    "webpack": lambda a, j: (
        v(Kind.SERVER, SERVER_WHY)
        if first(a) == "serve" or has(a, "--watch", "-w")
        else check("`webpack` builds and exits")
    ),  # fmt: skip
    "rollup": lambda a, j: (
        v(Kind.SERVER, SERVER_WHY) if has(a, "-w", "--watch") else check("`rollup` builds")
    ),
    "esbuild": lambda a, j: (
        v(Kind.SERVER, SERVER_WHY) if has(a, "--watch", "--serve") else check("`esbuild` builds")
    ),
    "karma": lambda a, j: (
        check("`karma start --single-run`")
        if has(a, "--single-run")
        else v(Kind.SERVER, SERVER_WHY)
    ),  # fmt: skip
    "turbo": _mono("turbo"),
    "nx": _mono("nx"),
    "lerna": _mono("lerna"),
    "wireit": _mono("wireit"),
    **many(
        [
            "nodemon",
            "parcel",
            "storybook",
            "start-storybook",
            "ng",
            "expo",
            "react-native",
            "ionic",
            "electron",
            "electron-forge",
            "remix",
            "gatsby",
        ],
        always(Kind.SERVER, SERVER_WHY),
    ),  # fmt: skip
}
