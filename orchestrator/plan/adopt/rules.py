"""Small builders shared by the per-ecosystem program tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v

Judge = Callable[[list[str]], Verdict]
Handler = Callable[[list[str], Judge], Verdict]


def always(kind: Kind, reason: str) -> Handler:
    """A handler that gives the same verdict whatever the arguments."""

    def handler(args: list[str], judge: Judge) -> Verdict:
        return v(kind, reason)

    return handler


def many(names: Iterable[str], handler: Handler) -> dict[str, Handler]:
    return dict.fromkeys(names, handler)


def positional(args: list[str], takes_value: frozenset[str] = frozenset()) -> list[str]:
    """The arguments that are not options (skipping the values of ``takes_value`` options)."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            skip = a in takes_value
            continue
        out.append(a)
    return out


def first(args: list[str], takes_value: frozenset[str] = frozenset()) -> str:
    found = positional(args, takes_value)
    return found[0] if found else ""


def has(args: list[str], *flags: str) -> bool:
    return any(a in flags or any(a.startswith(f + "=") for f in flags) for a in args)


def watching(args: list[str]) -> Verdict | None:
    """A watch flag anywhere makes a command a watcher that never ends."""
    if has(args, "--watch", "--watchAll", "--watch-all", "--serve", "--reload", "--dev"):
        return v(Kind.SERVER, "runs in watch or serve mode and does not stop by itself")
    return None


def sub_table(
    tool: str,
    checks: Iterable[str],
    refused: dict[str, tuple[Kind, str]],
    takes_value: frozenset[str] = frozenset(),
    default: Verdict | None = None,
) -> Handler:
    """A handler keyed on the first positional word (the subcommand)."""
    check_set = frozenset(checks)

    def handler(args: list[str], judge: Judge) -> Verdict:
        w = watching(args)
        if w is not None:
            return w
        s = first(args, takes_value)
        if s in check_set:
            return check(f"`{tool} {s}` tests, lints or builds and then exits")
        if s in refused:
            kind, why = refused[s]
            return v(kind, f"`{f'{tool} {s}'.strip()}` {why}")
        if default is not None:
            return default
        return v(Kind.UNKNOWN, f"`{tool} {s}`: not a subcommand adopt knows to be a check")

    return handler


def with_format(tool: str, check_flags: tuple[str, ...], rest: Handler) -> Handler:
    """``tool format`` checks with one of ``check_flags`` (fails on unformatted code) and
    rewrites files without; every other subcommand is ``rest``'s."""

    def handler(args: list[str], judge: Judge) -> Verdict:
        if first(args) != "format":
            return rest(args, judge)
        if has(args, *check_flags):
            return check(f"`{tool} format {check_flags[0]}` fails on unformatted code")
        return v(Kind.EDIT, f"`{tool} format` {EDIT_WHY}")

    return handler


SETUP_WHY = "installs or changes dependencies (machine or network setup)"
SERVER_WHY = "starts a server or watcher that does not stop by itself"
DEPLOY_WHY = "deploys or publishes"
EDIT_WHY = "rewrites files: not a check"
RUN_WHY = "runs the project's program, which may not stop by itself"
