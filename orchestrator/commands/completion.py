"""``orchestrator completion bash|zsh``: a shell completion script, made from the parser itself.

The script completes subcommands (and ``runs``' actions), each subcommand's
options (the global ones too), the values of options with choices
(``--sandbox``, ``--log-format`` ...), directories after ``-C``/``--keep`` and
files elsewhere (PLAN, SCENARIO, ``--config``). zsh gets the same script through
``bashcompinit``. Because it is generated from the parser, it never misses a flag.
"""

from __future__ import annotations

import argparse
import shlex

from orchestrator.errors import ExitCode
from orchestrator.ui import console

_DIR_METAVARS = frozenset({"DIR"})
_INSTALL = {
    "bash": "# bash: source <(orchestrator completion bash), e.g. in ~/.bashrc",
    "zsh": '# zsh: eval "$(orchestrator completion zsh)", e.g. in ~/.zshrc',
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps no public list of subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        o for a in parser._actions for o in a.option_strings if o.startswith("--") or len(o) == 2
    ]


def _value_cases(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Option -> the compgen arguments that complete its value."""
    cases: dict[str, str] = {}
    parsers = [parser, *_subparsers(parser).values()]
    parsers += [q for p in list(parsers) for q in _subparsers(p).values()]
    for p in parsers:
        for a in p._actions:
            if not a.option_strings or a.nargs == 0:
                continue
            if a.choices:
                words = " ".join(str(c) for c in a.choices)
                value = f"-W {shlex.quote(words)}"
            elif a.metavar in _DIR_METAVARS:
                value = "-d"
            elif a.metavar in ("FILE", "PATH"):
                value = "-f"
            else:
                value = ""  # a number, a name, a duration: nothing to offer
            for option in a.option_strings:
                cases.setdefault(option, value)
    return cases


def _words(parser: argparse.ArgumentParser, common: list[str]) -> str:
    """``words=...`` (its options) and ``pwords=...`` (its positional choices) of a parser."""
    options = " ".join(dict.fromkeys([*_options(parser), *common]))
    choices = [str(c) for a in parser._actions if not a.option_strings and a.choices
               for c in a.choices]  # fmt: skip
    out = f"words={shlex.quote(options)}"
    return out + (f"; pwords={shlex.quote(' '.join(choices))}" if choices else "")


def bash_script(parser: argparse.ArgumentParser) -> str:
    """The bash completion function for ``parser`` (prog ``orchestrator``)."""
    top = _subparsers(parser)
    common = _options(parser)
    value_cases = _value_cases(parser)
    takes_value = " | ".join(sorted(value_cases)) or "--"
    lines = [
        "_orchestrator() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" action="" i w',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        w="${COMP_WORDS[i]}"',
        '        case "$w" in',
        f"            {takes_value}) ((i++)) ;;",
        "            -*) ;;",
        '            *) if [[ -z "$cmd" ]]; then cmd="$w";',
        '               elif [[ -z "$action" ]]; then action="$w"; fi ;;',
        "        esac",
        "    done",
        '    case "$prev" in',
    ]
    for option, value in sorted(value_cases.items()):
        reply = f'($(compgen {value} -- "$cur"))' if value else "()"
        lines.append(f"        {option}) COMPREPLY={reply}; return ;;")
    lines += ["    esac", '    local words="" pwords=""', '    case "$cmd" in']
    lines.append(f'        "") words={shlex.quote(" ".join([*top, *common]))} ;;')
    for name, sub in top.items():
        actions = _subparsers(sub)
        if not actions:
            lines.append(f"        {name}) {_words(sub, common)} ;;")
            continue
        lines.append(f'        {name}) case "$action" in')
        for action_name, action_parser in actions.items():
            lines.append(f"            {action_name}) {_words(action_parser, common)} ;;")
        choices = shlex.quote(" ".join(actions))
        lines.append(f"            *) {_words(sub, common)}; pwords={choices} ;;")
        lines.append("        esac ;;")
    lines += [
        "    esac",
        '    if [[ "$cur" == -* || -z "$cmd" ]]; then',
        '        COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        '    elif [[ -n "$pwords" ]]; then',
        '        COMPREPLY=($(compgen -W "$pwords" -- "$cur"))',
        "    else",
        '        COMPREPLY=($(compgen -f -- "$cur"))',
        "    fi",
        "}",
        "complete -o filenames -o bashdefault -F _orchestrator orchestrator",
    ]
    return "\n".join(lines) + "\n"


def completion_command(shell: str, parser: argparse.ArgumentParser) -> int:
    """Print the completion script for ``shell``."""
    console.out(_INSTALL[shell])
    if shell == "zsh":
        console.out("(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }")
        console.out("autoload -U +X bashcompinit && bashcompinit")
    console.out(bash_script(parser).rstrip("\n"))
    return int(ExitCode.OK)
