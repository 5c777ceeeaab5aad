"""Shell built-ins, file tools, git, HTTP clients, cloud and account tools, wrappers."""

from __future__ import annotations

import re

from orchestrator.plan.adopt.rules import Handler, Judge, always, first, has, many, positional
from orchestrator.plan.adopt.targets import script_name
from orchestrator.plan.adopt.verdict import Kind, Verdict, check, v

_LOOPBACK = re.compile(
    r"^(?:[a-z]+://)?(?:[^@/]*@)?(?:localhost|127(?:\.\d+){3}|\[::1\]|0\.0\.0\.0)(?::\d+)?(?:[/?#]|$)",
    re.IGNORECASE,
)
_URLISH = re.compile(r"^(?:[a-z]+://|[\w.-]+\.[a-z]{2,}(?::\d+)?(?:/|$)|localhost|127\.)", re.I)


def _http(args: list[str], judge: Judge) -> Verdict:
    urls = [a for a in positional(args, _CURL_VALUE) if _URLISH.match(a) or _LOOPBACK.match(a)]
    if not urls:
        return v(Kind.UNKNOWN, "an HTTP request without a URL adopt can read")
    if all(_LOOPBACK.match(u) for u in urls):
        return v(
            Kind.NEEDS_SERVICE,
            "asks a server on this machine, which must be running: declare the server in a "
            "`service` block and add this check by hand",
        )
    return v(Kind.EXTERNAL, "talks to a host outside this machine")


_CURL_VALUE = frozenset(
    {"-X", "-H", "-d", "-o", "-u", "-w", "-m", "-A", "-e", "-F", "--data", "--header",
     "--request", "--output", "--user", "--write-out", "--max-time", "--data-raw",
     "--data-binary", "--json", "--connect-timeout", "--retry", "-b", "-c", "-T", "-O"}
)  # fmt: skip


_GIT_SHOW = {"status", "log", "show", "diff", "blame", "rev-parse", "ls-files", "grep", "describe",
             "shortlog", "remote", "config", "branch", "reflog", "cat-file"}  # fmt: skip


def _git(args: list[str], judge: Judge) -> Verdict:
    sub = first(args, frozenset({"-C", "-c"}))
    rest = args[args.index(sub) + 1 :] if sub in args else []
    if sub == "diff" and has(rest, "--check", "--exit-code", "--quiet"):
        return check("`git diff --check/--exit-code` fails on whitespace errors or changes")
    if sub in _GIT_SHOW:
        if sub == "branch" and has(rest, "-D", "-d", "--delete", "-m", "-M"):
            return v(Kind.DESTRUCTIVE, "`git branch -D` deletes branches")
        return v(Kind.INSPECT, f"`git {sub}` shows state; it proves nothing by itself")
    if sub == "push":
        return v(Kind.DEPLOY, "`git push` publishes commits")
    if sub in {"reset", "clean", "restore", "checkout", "stash", "rm", "switch"}:
        return v(Kind.DESTRUCTIVE, f"`git {sub}` can discard work in the tree")
    if sub in {"commit", "add", "tag", "notes", "am", "rebase", "merge", "cherry-pick", "revert"}:
        return v(
            Kind.INTERACTIVE,
            f"`git {sub}` records history: the orchestrator makes the commits itself",
        )
    if sub in {"pull", "fetch", "clone", "submodule", "ls-remote"}:
        return v(Kind.EXTERNAL, f"`git {sub}` talks to a remote")
    return v(Kind.EDIT, f"`git {sub}` changes the repository: not a check")


def _source(args: list[str], judge: Judge) -> Verdict:
    target = first(args)
    inside = target and not target.startswith(("/", "~", "$")) and ".." not in target.split("/")
    if inside and target.rsplit("/", 1)[-1] in {"activate", ".env", "env.sh", ".envrc"}:
        return v(Kind.NEUTRAL, "activates the project's environment from the tree")
    return v(Kind.SETUP, f"`source {target}` changes the shell from outside the tree")


def _export(args: list[str], judge: Judge) -> Verdict:
    for a in args:
        value = a.split("=", 1)[1] if "=" in a else ""
        if value.startswith(("/", "~")):
            return v(Kind.MACHINE_PATH, f"`export {a}` names a path on the author's machine")
    return v(Kind.NEUTRAL, "sets an environment variable for the commands after it")


def _rm(args: list[str], judge: Judge) -> Verdict:
    return v(Kind.DESTRUCTIVE, "deletes files")


def _wrapper(skip_values: int = 0) -> Handler:
    """``timeout 60 CMD``, ``time CMD``, ``nice CMD``: judge CMD."""

    def handler(args: list[str], judge: Judge) -> Verdict:
        rest = list(args)
        while rest and rest[0].startswith("-"):
            rest.pop(0)
        rest = rest[skip_values:]
        while rest and "=" in rest[0] and not rest[0].startswith("-"):
            rest.pop(0)
        return judge(rest) if rest else v(Kind.INSPECT, "prints information only")

    return handler


def _shell(args: list[str], judge: Judge) -> Verdict:
    if not args:
        return v(Kind.INTERACTIVE, "an interactive shell")
    if args[0] in {"-c", "-lc", "-ec", "-euc"} and len(args) > 1:
        from orchestrator.plan.adopt.safety import judge_line

        return judge_line(args[1])
    script = first(args)
    if not script:
        return v(Kind.UNKNOWN, "a shell with options only")
    return script_name(script, args[args.index(script) + 1 :])


def _cd(args: list[str], judge: Judge) -> Verdict:
    target = first(args)
    if target.startswith(("/", "~", "$")) or ".." in target.split("/"):
        return v(Kind.MACHINE_PATH, f"changes into `{target}`, outside the work tree")
    return v(Kind.NEUTRAL, "changes directory inside the work tree")


def _test(args: list[str], judge: Judge) -> Verdict:
    return check("a shell test: exits non-zero when the condition is false")


def _grep(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-q", "--quiet", "-qs", "-sq"):
        return check("`grep -q` fails when the text is missing")
    return v(Kind.INSPECT, "searches and prints; its exit status is not a reliable check")


def _diff(args: list[str], judge: Judge) -> Verdict:
    if len(positional(args)) >= 2:
        return check("compares two files and fails when they differ")
    return v(Kind.INSPECT, "prints a comparison")


def _sed(args: list[str], judge: Judge) -> Verdict:
    if any(a.startswith("-i") or a == "--in-place" for a in args):
        return v(Kind.EDIT, "`sed -i` edits files in place: not a check")
    return v(Kind.INSPECT, "prints part of a file; proves nothing by itself")


def _tail(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-f", "-F", "--follow"):
        return v(Kind.SERVER, "`tail -f` follows a file forever")
    return v(Kind.INSPECT, "prints part of a file; proves nothing by itself")


def _jq(args: list[str], judge: Judge) -> Verdict:
    if has(args, "-e", "--exit-status"):
        return check("`jq -e` fails when the expression is false or null")
    return v(Kind.INSPECT, "prints JSON; proves nothing by itself")


def _sleep(args: list[str], judge: Judge) -> Verdict:
    if any(a in {"infinity", "inf"} for a in args):
        return v(Kind.SERVER, "sleeps forever")
    return v(Kind.NEUTRAL, "waits")


def _tee(args: list[str], judge: Judge) -> Verdict:
    for target in positional(args):
        if target.startswith(("/", "~")) and target != "/dev/null":
            return v(Kind.EXTERNAL, f"writes `{target}`, outside the work tree")
    return v(Kind.NEUTRAL, "copies output to a file in the tree")


_INSPECT = ["cat", "head", "less", "more", "ls", "ll", "tree", "find", "fd", "rg", "ag", "ack",
            "awk", "wc", "sort", "uniq", "cut", "yq", "echo", "printf", "pwd", "which", "where",
            "type", "whoami", "printenv", "stat", "file", "du", "df", "date", "hostname",
            "uname", "history", "tokei", "cloc", "nl", "xxd", "hexdump", "od", "bat", "realpath",
            "readlink", "basename", "dirname", "column", "tr", "tput", "clear", "true", "false",
            "xargs", "lsof", "ps", "pgrep", "ss", "netstat", "id", "groups", "sha256sum",
            "shasum", "md5sum", "sqlite3"]  # fmt: skip
_SETUP = ["apt", "apt-get", "aptitude", "brew", "yum", "dnf", "pacman", "apk", "zypper", "port",
          "choco", "winget", "scoop", "snap", "flatpak", "sudo", "doas", "su", "conda", "mamba",
          "micromamba", "nvm", "fnm", "volta", "rustup", "asdf", "mise", "rbenv", "pyenv", "sdk",
          "corepack", "unset", "alias", "direnv", "install",
          "systemctl", "service", "launchctl", "ulimit", "opam", "gem", "cpan", "ghcup",
          "update-alternatives", "chsh", "setx", "nix-env", "pkg"]  # fmt: skip
_DEPLOY = ["vercel", "netlify", "flyctl", "fly", "heroku", "firebase", "supabase", "pulumi",
           "cdk", "sam", "serverless", "sls", "eb", "ansible", "ansible-playbook", "rsync",
           "scp", "sftp", "twine", "fastlane", "eas", "railway", "render", "amplify",
           "wrangler", "kamal", "capistrano", "cap", "skaffold", "tilt", "argocd",
           "flux"]  # fmt: skip
_EXTERNAL = ["gh", "glab", "hub", "aws", "gcloud", "gsutil", "bq", "az", "stripe", "ssh",
             "telnet", "nc", "ncat", "ftp", "psql", "mysql", "mongosh", "mongo", "redis-cli",
             "sqlcmd", "cqlsh", "docker", "podman", "docker-compose", "vagrant", "minikube",
             "kind", "k3d", "kubectl", "oc", "ngrok", "cloudflared", "openai", "codex",
             "claude", "aider", "gemini", "copilot", "llm", "ollama", "huggingface-cli",
             "wandb", "doctl", "linode-cli", "pg_dump", "pg_restore", "mysqldump", "createdb",
             "govulncheck", "snyk", "sentry-cli", "op", "vault"]  # fmt: skip
_INTERACTIVE = ["vim", "vi", "nvim", "nano", "emacs", "code", "cursor", "subl", "idea", "man",
                "top", "htop", "btop", "tmux", "screen", "ipython", "jupyter", "irb", "ghci",
                "read", "pause", "select", "passwd", "ssh-keygen", "xdg-open", "open",
                "explorer", "start"]  # fmt: skip
_SERVER = ["watch", "nohup", "entr", "watchexec", "nodemon", "caddy", "nginx", "httpd",
           "redis-server", "postgres", "mongod", "mailhog", "ngrok", "overmind", "foreman",
           "honcho", "air", "reflex", "live-server", "http-server", "serve", "json-server",
           "hugo", "jekyll", "browser-sync"]  # fmt: skip
_DESTRUCTIVE = ["rm", "rmdir", "shred", "dd", "mkfs", "truncate", "kill", "pkill", "killall",
                "dropdb", "fdisk", "parted", "wipefs", "unlink", "reboot", "shutdown", "halt",
                "del", "rd"]  # fmt: skip
_EDIT = ["touch", "cp", "mv", "ln", "chmod", "chown", "patch", "apply_patch", "perl", "unzip",
         "tar", "ed", "dos2unix"]  # fmt: skip

HANDLERS: dict[str, Handler] = {
    **many(_INSPECT, always(Kind.INSPECT, "prints information; proves nothing by itself")),
    **many(_SETUP, always(Kind.SETUP, "changes the machine or the shell (setup)")),
    **many(_DEPLOY, always(Kind.DEPLOY, "deploys, publishes or reaches a hosting account")),
    **many(_EXTERNAL, always(Kind.EXTERNAL, "needs an account, a daemon or a remote host")),
    **many(_INTERACTIVE, always(Kind.INTERACTIVE, "waits for a person at the keyboard")),
    **many(_SERVER, always(Kind.SERVER, "runs until stopped (server or watcher)")),
    **many(_DESTRUCTIVE, _rm),
    **many(_EDIT, always(Kind.EDIT, "changes files: not a check")),
    "mkdir": always(Kind.NEUTRAL, "creates a directory in the tree"),
    "source": _source,
    ".": _source,
    "export": _export,
    "set": always(Kind.NEUTRAL, "sets shell options"),
    "cd": _cd,
    "pushd": _cd,
    "git": _git,
    "curl": _http,
    "wget": _http,
    "http": _http,
    "https": _http,
    "xh": _http,
    "test": _test,
    "[": _test,
    "[[": _test,
    "grep": _grep,
    "egrep": _grep,
    "diff": _diff,
    "cmp": _diff,
    "sed": _sed,
    "tail": _tail,
    "jq": _jq,
    "sleep": _sleep,
    "tee": _tee,
    "timeout": _wrapper(skip_values=1),
    "gtimeout": _wrapper(skip_values=1),
    "time": _wrapper(),
    "env": _wrapper(),
    "nice": _wrapper(),
    "ionice": _wrapper(),
    "stdbuf": _wrapper(),
    "command": _wrapper(),
    "exec": _wrapper(),
    "xvfb-run": _wrapper(),
    "dbus-run-session": _wrapper(),
    "sh": _shell,
    "bash": _shell,
    "zsh": _shell,
    "dash": _shell,
}
