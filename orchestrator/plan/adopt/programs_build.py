"""Build tools and compiled-language toolchains: make, cargo, go, gradle, dotnet, ..."""

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
    with_format,
)
from orchestrator.plan.adopt.targets import classify_name
from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v, worst

_MAKE_VALUE = frozenset({"-C", "-f", "--file", "--directory", "-j", "-l", "-o", "-W"})


def _targets(tool: str, takes_value: frozenset[str] = frozenset()) -> Handler:
    """``make test lint``: every target must be a check."""

    def handler(args: list[str], judge: Judge) -> Verdict:
        names = [a for a in positional(args, takes_value) if "=" not in a]
        if not names:
            return v(Kind.UNKNOWN, f"`{tool}` runs its default target: name the target that checks")
        return worst([classify_name(n, f"{tool} target") for n in names])

    return handler


def words_of(args: list[str]) -> set[str]:
    return {a.casefold() for a in args}


def _cargo(args: list[str], judge: Judge) -> Verdict:
    args = [a for a in args if not a.startswith("+")]
    w = watching(args)
    if w is not None:
        return w
    sub = first(args, frozenset({"--manifest-path", "-p", "--package", "-Z", "--config"}))
    if sub == "fmt" or sub == "fmt-check":
        if has(args, "--check"):
            return check("`cargo fmt --check` fails on unformatted code")
        return v(Kind.EDIT, f"`cargo fmt` {EDIT_WHY}")
    if sub in {"test", "t", "build", "b", "check", "c", "clippy", "doc", "nextest", "miri",
               "tarpaulin", "llvm-cov", "deny", "machete", "hack", "insta", "udeps"}:  # fmt: skip
        return check(f"`cargo {sub}` tests, lints or builds and then exits")
    if sub in {"xtask", "make"}:
        rest = positional(args[args.index(sub) + 1 :])
        if rest:
            return classify_name(rest[0], f"cargo {sub} task")
        return v(Kind.UNKNOWN, f"`cargo {sub}` without a task")
    if sub in {"run", "r"}:
        if words_of(args) & {"serve", "server", "watch", "dev", "start", "listen", "daemon"}:
            return v(Kind.SERVER, f"`cargo run` with {SERVER_WHY}")
        return v(Kind.PROGRAM, f"`cargo run` {RUN_WHY}")
    if sub == "clean":
        return v(Kind.DESTRUCTIVE, "`cargo clean` deletes the build outputs")
    if sub in {"install", "add", "update", "remove", "fetch", "vendor", "generate-lockfile"}:
        return v(Kind.SETUP, f"`cargo {sub}` {SETUP_WHY}")
    if sub in {"publish", "login", "yank", "owner"}:
        return v(Kind.DEPLOY, f"`cargo {sub}` {DEPLOY_WHY}")
    if sub in {"new", "init"}:
        return v(Kind.EDIT, f"`cargo {sub}` scaffolds a project")
    if sub in {"watch"}:
        return v(Kind.SERVER, f"`cargo watch` {SERVER_WHY}")
    if sub in {"bench"}:
        return v(Kind.UNKNOWN, "`cargo bench` measures speed; it is slow and not a pass/fail check")
    if sub in {"audit", "outdated"}:
        return v(Kind.EXTERNAL, f"`cargo {sub}` downloads an advisory database")
    if sub in {"metadata", "tree", "search", "version", "--version", "-V"}:
        return v(Kind.INSPECT, f"`cargo {sub}` prints information")
    return v(Kind.UNKNOWN, f"`cargo {sub}`: not a subcommand adopt knows to be a check")


def _go(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    rest = positional(args)[1:]
    if sub in {"test", "vet", "build"}:
        return check(f"`go {sub}` tests, vets or builds and then exits")
    if sub == "run":
        return v(Kind.PROGRAM, f"`go run` {RUN_WHY}")
    if sub == "mod":
        if rest[:1] == ["verify"]:
            return check("`go mod verify` checks the module cache")
        return v(Kind.SETUP, f"`go mod {' '.join(rest[:1])}` {SETUP_WHY}")
    if sub in {"get", "install", "work"}:
        return v(Kind.SETUP, f"`go {sub}` {SETUP_WHY}")
    if sub in {"fmt", "generate", "fix"}:
        return v(Kind.EDIT, f"`go {sub}` {EDIT_WHY}")
    if sub in {"env", "version", "list", "doc", "help"}:
        return v(Kind.INSPECT, f"`go {sub}` prints information")
    return v(Kind.UNKNOWN, f"`go {sub}`: not a subcommand adopt knows to be a check")


_GRADLE_CHECKS = ("assemble", "compile", "test", "check", "lint", "ktlint", "detekt",
                  "spotlessCheck", "build", "connected", "verify", "jacoco")  # fmt: skip


_GRADLE_VALUE = frozenset({"-p", "-x", "--project-dir", "--tests", "--exclude-task", "-b",
                           "--build-file", "-c", "--settings-file", "--max-workers",
                           "--console", "--warning-mode"})  # fmt: skip


def _gradle(args: list[str], judge: Judge) -> Verdict:
    tasks = [a for a in positional(args, _GRADLE_VALUE) if a]
    if not tasks:
        return v(Kind.UNKNOWN, "gradle without a task")
    verdicts = []
    for t in tasks:
        name = t.rsplit(":", 1)[-1]
        if name == "clean":
            continue
        if name in {"bootRun", "run", "appRun", "jettyRun", "installDebug"}:
            verdicts.append(v(Kind.SERVER, f"gradle `{name}` {SERVER_WHY}"))
        elif name.startswith(_GRADLE_CHECKS):
            verdicts.append(check(f"gradle `{name}` builds or tests and then exits"))
        else:
            verdicts.append(classify_name(name, "gradle task"))
    return worst(verdicts) if verdicts else v(Kind.DESTRUCTIVE, "only cleans the build")


def _mvn(args: list[str], judge: Judge) -> Verdict:
    goals = positional(args, frozenset({"-pl", "-f", "-s", "-P", "-T", "--projects"}))
    if not goals:
        return v(Kind.UNKNOWN, "maven without a goal")
    verdicts = []
    for g in goals:
        if g in {"clean"}:
            continue
        if g in {"test", "verify", "package", "compile", "test-compile", "validate"} or g.endswith(
            (":check", ":test", ":verify", "checkstyle:check", "spotless:check")
        ):
            verdicts.append(check(f"maven `{g}` builds or tests and then exits"))
        elif g in {"install"}:
            verdicts.append(v(Kind.SETUP, "maven `install` writes to ~/.m2, outside the tree"))
        elif g in {"deploy", "release:perform", "release:prepare"}:
            verdicts.append(v(Kind.DEPLOY, f"maven `{g}` {DEPLOY_WHY}"))
        elif g.endswith((":run", ":start")):
            verdicts.append(v(Kind.SERVER, f"maven `{g}` {SERVER_WHY}"))
        elif g.startswith("exec:"):
            verdicts.append(v(Kind.PROGRAM, f"maven `{g}` {RUN_WHY}"))
        else:
            verdicts.append(classify_name(g, "maven goal"))
    return worst(verdicts) if verdicts else v(Kind.DESTRUCTIVE, "only cleans the build")


def _bundle(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub == "exec":
        return judge(args[args.index("exec") + 1 :])
    if sub in {"", "install", "update", "add", "config"}:
        return v(Kind.SETUP, f"`bundle {sub}` {SETUP_WHY}".replace("  ", " "))
    return v(Kind.UNKNOWN, f"`bundle {sub}`: not a check adopt knows")


def _rails(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub in {"test", "t", "test:system", "spec"}:
        return check("`rails test` runs the tests and exits")
    if sub in {"s", "server"}:
        return v(Kind.SERVER, SERVER_WHY)
    if sub in {"c", "console", "dbconsole"}:
        return v(Kind.INTERACTIVE, "opens a console")
    if sub.startswith("db:"):
        return v(Kind.EXTERNAL, "changes a database")
    return classify_name(sub, "rails task")


def _php(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-S"):
        return v(Kind.SERVER, SERVER_WHY)
    if has(args, "-l"):
        return check("`php -l` fails on syntax errors")
    words = positional(args)
    if words[:1] == ["artisan"]:
        sub = words[1] if len(words) > 1 else ""
        if sub == "serve":
            return v(Kind.SERVER, SERVER_WHY)
        if sub.startswith(("migrate", "db:")):
            return v(Kind.EXTERNAL, "changes a database")
        if sub == "tinker":
            return v(Kind.INTERACTIVE, "opens a console")
        return classify_name(sub, "artisan command")
    return judge(words) if words else v(Kind.INTERACTIVE, "an interactive PHP shell")


def _cmake(args: list[str], judge: Judge) -> Verdict:
    if has(args, "--install"):
        return v(Kind.SETUP, "installs outside the tree")
    return check("`cmake` configures or builds inside the tree and exits")


def _terraform(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub == "validate" or (sub == "fmt" and has(args, "-check", "--check")):
        return check(f"`terraform {sub}` checks the configuration offline")
    return v(Kind.DEPLOY, f"`terraform {sub}` needs cloud credentials or changes infrastructure")


def _helm(args: list[str], judge: Judge) -> Verdict:
    sub = first(args)
    if sub in {"lint", "template"}:
        return check(f"`helm {sub}` checks a chart offline")
    return v(Kind.DEPLOY, f"`helm {sub}` {DEPLOY_WHY}")


def _rubocop(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-a", "-A", "--autocorrect", "--auto-correct", "--autocorrect-all"):
        return v(Kind.EDIT, f"`rubocop -a` {EDIT_WHY}")
    return check("`rubocop` lints and exits")


def _nix(args: list[str], judge: Judge) -> Verdict:
    words = positional(args)
    if words[:2] == ["flake", "check"]:
        return check("`nix flake check` evaluates and checks the flake")
    if words[:1] in (["develop"], ["shell"]) and ("-c" in args or "--command" in args):
        flag = "-c" if "-c" in args else "--command"
        return judge(args[args.index(flag) + 1 :])
    if words[:1] == ["run"]:
        return v(Kind.PROGRAM, f"`nix run` {RUN_WHY}")
    return v(
        Kind.EXTERNAL, f"`nix {' '.join(words[:2])}` builds into the nix store, outside the tree"
    )


def _precommit(args: list[str], judge: Judge) -> Verdict:
    if first(args) == "run":
        return check("`pre-commit run` runs the repository's hooks and exits")
    return v(Kind.SETUP, f"`pre-commit {first(args)}` {SETUP_WHY}")


_LINTERS = ["shellcheck", "bats", "hadolint", "actionlint", "yamllint", "markdownlint",
            "markdownlint-cli2", "golangci-lint", "staticcheck", "phpunit", "pest", "phpstan",
            "psalm", "ctest", "rspec", "hlint", "tflint", "kubeconform", "vale", "cspell",
            "codespell", "typos", "ls-lint", "taplo", "buf", "clang-tidy", "cppcheck",
            "swiftlint", "ktlint", "detekt", "credo", "mdformat-check", "lychee-offline",
            "editorconfig-checker", "checkmake", "sqlfluff", "commitlint", "xmllint",
            "protolint", "spectral", "dialyzer", "elm-test", "ruff-check"]  # fmt: skip

HANDLERS: dict[str, Handler] = {
    "make": _targets("make", _MAKE_VALUE),
    "gmake": _targets("make", _MAKE_VALUE),
    "just": _targets("just", frozenset({"-f", "--justfile", "-d"})),
    "task": _targets("task", frozenset({"-d", "-t"})),
    "mage": _targets("mage"),
    "rake": _targets("rake"),
    "invoke": _targets("invoke"),
    "inv": _targets("invoke"),
    "cargo": _cargo,
    "go": _go,
    "gradle": _gradle,
    "gradlew": _gradle,
    "mvn": _mvn,
    "mvnw": _mvn,
    "dotnet": with_format(
        "dotnet",
        ("--verify-no-changes",),
        sub_table(
            "dotnet",
            ["test", "build", "msbuild", "vstest"],
            {
                "run": (Kind.PROGRAM, RUN_WHY),
                "watch": (Kind.SERVER, SERVER_WHY),
                "restore": (Kind.SETUP, SETUP_WHY),
                "tool": (Kind.SETUP, SETUP_WHY),
                "add": (Kind.SETUP, SETUP_WHY),
                "new": (Kind.EDIT, "scaffolds a project"),
                "publish": (Kind.DEPLOY, DEPLOY_WHY),
                "nuget": (Kind.DEPLOY, DEPLOY_WHY),
                "ef": (Kind.EXTERNAL, "changes a database"),
            },
        ),
    ),
    "bundle": _bundle,
    "bundler": _bundle,
    "rails": _rails,
    "php": _php,
    "cmake": _cmake,
    "terraform": _terraform,
    "tofu": _terraform,
    "helm": _helm,
    "rubocop": _rubocop,
    "pre-commit": _precommit,
    "nix": _nix,
    "prek": _precommit,
    "composer": lambda a, j: (
        v(Kind.SETUP, f"`composer {first(a)}` {SETUP_WHY}")
        if first(a) in {"install", "require", "update", "dump-autoload", ""}
        else classify_name(
            first(a) if first(a) != "run-script" else first(a[1:]), "composer script"
        )
    ),
    "swift": sub_table(
        "swift",
        ["test", "build"],
        {"run": (Kind.PROGRAM, RUN_WHY), "package": (Kind.SETUP, SETUP_WHY)},
    ),  # fmt: skip
    "xcodebuild": lambda a, j: check("`xcodebuild` builds or tests and exits"),
    "flutter": sub_table(
        "flutter",
        ["test", "analyze", "build"],
        {
            "run": (Kind.SERVER, "runs the app until stopped"),
            "pub": (Kind.SETUP, SETUP_WHY),
            "create": (Kind.EDIT, "scaffolds a project"),
            "doctor": (Kind.INSPECT, "prints info"),
        },
    ),
    "dart": with_format(
        "dart",
        ("--set-exit-if-changed", "--output=none"),
        sub_table(
            "dart",
            ["test", "analyze", "compile"],
            {
                "run": (Kind.PROGRAM, RUN_WHY),
                "pub": (Kind.SETUP, SETUP_WHY),
                "fix": (Kind.EDIT, EDIT_WHY),
            },
        ),
    ),
    "mix": with_format(
        "mix",
        ("--check-formatted",),
        sub_table(
            "mix",
            ["test", "compile", "credo", "dialyzer", "hex.audit"],
            {
                "run": (Kind.PROGRAM, RUN_WHY),
                "phx.server": (Kind.SERVER, SERVER_WHY),
                "deps.get": (Kind.SETUP, SETUP_WHY),
                "ecto.migrate": (Kind.EXTERNAL, "changes a database"),
                "ecto.reset": (Kind.DESTRUCTIVE, "drops a database"),
            },
        ),
    ),
    "cabal": sub_table(
        "cabal",
        ["test", "build", "check", "haddock"],
        {
            "run": (Kind.PROGRAM, RUN_WHY),
            "exec": (Kind.PROGRAM, RUN_WHY),
            "update": (Kind.SETUP, SETUP_WHY),
            "install": (Kind.SETUP, SETUP_WHY),
            "repl": (Kind.INTERACTIVE, "opens a REPL"),
            "upload": (Kind.DEPLOY, DEPLOY_WHY),
        },
    ),
    "stack": sub_table(
        "stack",
        ["test", "build", "haddock"],
        {
            "run": (Kind.PROGRAM, RUN_WHY),
            "exec": (Kind.PROGRAM, RUN_WHY),
            "setup": (Kind.SETUP, SETUP_WHY),
            "install": (Kind.SETUP, SETUP_WHY),
            "ghci": (Kind.INTERACTIVE, "opens a REPL"),
            "upload": (Kind.DEPLOY, DEPLOY_WHY),
        },
    ),
    "dune": sub_table(
        "dune",
        ["test", "build", "runtest", "fmt"],
        {"exec": (Kind.PROGRAM, RUN_WHY), "utop": (Kind.INTERACTIVE, "opens a REPL")},
    ),
    "zig": sub_table("zig", ["build", "test", "fmt"], {"run": (Kind.PROGRAM, RUN_WHY)}),
    "bazel": sub_table(
        "bazel",
        ["test", "build", "coverage"],
        {"run": (Kind.PROGRAM, RUN_WHY), "clean": (Kind.DESTRUCTIVE, "deletes outputs")},
    ),
    "bazelisk": sub_table("bazel", ["test", "build"], {"run": (Kind.PROGRAM, RUN_WHY)}),
    "pants": lambda a, j: check("`pants` goals run and exit"),
    "sbt": _targets("sbt"),
    "lein": _targets("lein"),
    "ctest": always(Kind.CHECK, "`ctest` runs the tests and exits"),
    **many(_LINTERS, always(Kind.CHECK, "a linter or test runner that exits")),
}
