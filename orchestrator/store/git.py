"""The target repository: checkpoints, diffs, commits and milestone history.

The only module that imports GitPython (to find the repository and read refs) and
the one that runs git for a run, through :mod:`orchestrator.store.git_calls` (the
preflight's queries use process/probe.py): each command has a time limit and its own
session. Async code runs a Repo operation through :meth:`Repo.call`, off the event
loop, so signals are handled while git works and a cancelled caller stops git at once;
an operation that takes git's lock files goes through :meth:`Repo.write`, which a stop
lets finish. Every operation leaves ``.agent/runs`` (the run artefacts) alone: it is
excluded from diffs, commits and resets.
Git history is the truth for resume: a milestone whose commit (found by its
``ExecPlan:``/``Milestone:`` trailers on the first-parent history of HEAD)
exists is done.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from orchestrator.errors import GitError
from orchestrator.paths import RUNS_DIR
from orchestrator.redact import Redactor
from orchestrator.store.atomic import atomic_write
from orchestrator.store.commits import CommitInfo, parse_trailers
from orchestrator.store.git_calls import STOP_WAIT, GitCalls

try:
    import git as gitpython
except ImportError:  # GitPython needs the git program at import time
    raise GitError(
        "the git program was not found on PATH (PATH is "
        f"{os.environ.get('PATH', '')!r}); install git or add its directory to PATH, "
        "e.g. PATH=/usr/bin:/bin in a crontab"
    ) from None

T = TypeVar("T")
# The longest any one git command may take (a hung hook, a stale lock); then it is killed.
GIT_TIMEOUT = 600.0
_EXCLUDE_LINE = "/.agent/runs/"
_NO_RUNS = f":(exclude){RUNS_DIR.as_posix()}"


class Repo:
    """A git work tree the orchestrator works in."""

    def __init__(self, repo: gitpython.Repo, root: Path, *, timeout: float = GIT_TIMEOUT) -> None:
        self._repo = repo
        self.root = root
        self.timeout = timeout
        self._calls = GitCalls()
        self._runs_excluded = False  # exclude_runs_dir has checked .git/info/exclude

    @classmethod
    def open(cls, path: Path) -> Repo:
        """Open the repository at ``path`` (or one of its parents); it must have a commit."""
        try:
            repo = gitpython.Repo(path, search_parent_directories=True)
        except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
            raise GitError(
                f"{path} is not inside a git repository; run `git init` and make a first "
                "commit, or pass the repository with -C DIR"
            ) from None
        if repo.working_tree_dir is None:
            raise GitError(f"{path} is a bare git repository; a work tree is needed")
        self = cls(repo, Path(repo.working_tree_dir).resolve())
        try:
            self._git("rev-parse", "--verify", "-q", "HEAD^{commit}")
        except GitError:
            raise GitError(
                f"the git repository at {self.root} has no commits yet; make a first commit "
                "(the orchestrator needs a checkpoint to start from)"
            ) from None
        return self

    @classmethod
    def init_with_commit(cls, directory: Path, *, message: str) -> Repo:
        """Make ``directory`` a new repository whose first commit holds all its files.

        A repository-local identity is set only when git has none configured.
        """
        repo = gitpython.Repo.init(directory, initial_branch="main")
        self = cls(repo, Path(directory).resolve())
        try:
            self._git("config", "user.email")
        except GitError:
            if not os.environ.get("GIT_AUTHOR_EMAIL"):
                self._git("config", "user.name", "Orchestrator Demo")
                self._git("config", "user.email", "demo@example.invalid")
        self._git("add", "-A")
        self._git("commit", "-q", "--no-verify", "-m", message)
        return self

    # -- plumbing ---------------------------------------------------------------

    def _git(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        strip_newline_in_stdout: bool = True,
        stdin: bytes | None = None,
    ) -> str:
        """Run one git command in the work tree; its stdout, or GitError.

        Bounded by ``self.timeout``; in its own session, so a cancelled caller
        (:meth:`call`) can stop it with everything it started."""
        full_env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **(env or {})}
        code, out, err = self._calls.run(
            ["git", *args], cwd=self.root, env=full_env, stdin=stdin, timeout=self.timeout
        )
        if code != 0:
            stderr = err.decode("utf-8", "replace").strip()
            if code < 0:
                stderr = stderr or f"killed by signal {-code}"
            raise GitError(f"`git {' '.join(args[:3])}` failed in {self.root}: {stderr}")
        text = out.decode("utf-8", "surrogateescape")
        return text.removesuffix("\n") if strip_newline_in_stdout else text

    async def call(self, operation: Callable[..., T], *args: Any) -> T:
        """Run a blocking Repo ``operation`` off the event loop, so signals are handled
        while git works; a cancelled caller stops its git processes at once."""
        return await self._calls.call(operation, *args)

    async def write(self, operation: Callable[..., T], *args: Any) -> T:
        """:meth:`call` for an operation that takes git's lock files (a commit, a reset,
        ref updates): a stop of the run lets it finish (bounded) rather than kill git
        inside its transaction; see :mod:`orchestrator.store.git_calls`."""
        return await self._calls.write(operation, *args)

    def stopping(self, wait: float = STOP_WAIT) -> None:
        """The run is stopping: git writes in progress get ``wait`` more seconds."""
        self._calls.stopping(wait)

    @contextmanager
    def _work_tree_index(self) -> Iterator[dict[str, str]]:
        """A throwaway index holding the whole work tree (untracked files too)."""
        git_dir = Path(self._repo.git_dir).resolve()
        with tempfile.TemporaryDirectory(prefix="orch-index-") as tmp:
            index = Path(tmp) / "index"
            real = git_dir / "index"
            if real.exists():
                # Keeps the stat cache (no rehash of clean files) AND the index's mtime:
                # git rehashes "racily clean" entries, changed in the second the index was
                # written, only by comparing with that mtime. A copy stamped "now" made a
                # same-size edit from that second look unchanged (the old file was judged).
                shutil.copy2(real, index)
            env = {"GIT_INDEX_FILE": str(index)}
            self.exclude_runs_dir()
            self._git("add", "-A", env=env)
            yield env

    def git(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        keep_newline: bool = False,
    ) -> str:
        """Run one git command in this repository; output without the last newline
        unless ``keep_newline``.

        For modules building on git plumbing (the verification copy); ``stdin`` is fed
        to the command.
        """
        return self._git(*args, env=env, strip_newline_in_stdout=not keep_newline, stdin=stdin)

    @property
    def objects_dir(self) -> Path:
        """The object database (shared by linked worktrees)."""
        return (Path(self._repo.common_dir) / "objects").resolve()

    def work_tree_snapshot(self) -> str:
        """Tree sha of the work tree as a commit would hold it (untracked files too).

        Ignored files and ``.agent/runs`` stay out; the real index is left alone.
        """
        with self._work_tree_index() as env:
            return self._git("write-tree", env=env)

    # -- queries ----------------------------------------------------------------

    def head(self) -> str:
        """The sha of HEAD (read from the ref files; no process).

        Not ``head.commit``: that looks the object up through a ``git cat-file
        --batch-check`` that GitPython keeps running, a process nobody stops (it was
        found still running, its pipes open, when the Repo was collected)."""
        try:
            return str(gitpython.SymbolicReference.dereference_recursive(self._repo, "HEAD"))
        except ValueError:  # a ref GitPython cannot resolve by itself: ask git
            return self._git("rev-parse", "HEAD")

    def commit_count(self) -> int:
        """Commits reachable from HEAD."""
        return int(self._git("rev-list", "--count", "HEAD"))

    def log_oneline(self, limit: int = 10) -> list[str]:
        """``git log --oneline`` of HEAD, newest first."""
        out = self._git("log", "--oneline", "--no-decorate", f"-n{limit}")
        return out.splitlines()

    def current_branch(self) -> str | None:
        """The checked-out branch, or None when HEAD is detached."""
        try:
            return self._git("symbolic-ref", "--short", "-q", "HEAD") or None
        except GitError:
            return None

    def dirty_paths(self, ignore: Sequence[str] = (RUNS_DIR.as_posix(),)) -> list[str]:
        """Changed, staged and untracked paths (not ignored ones), sorted."""
        out = self._git(  # no optional locks: a read never leaves an index.lock behind
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            strip_newline_in_stdout=False,
        )
        paths: list[str] = []
        entries = iter(out.split("\0"))
        for entry in entries:
            if len(entry) < 4:
                continue
            code, path = entry[:2], entry[3:]
            if code[0] in "RC":
                next(entries, None)  # the rename's source path follows
            if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in ignore):
                paths.append(path)
        return sorted(paths)

    def is_dirty(self, ignore: Sequence[str] = (RUNS_DIR.as_posix(),)) -> bool:
        """True if the work tree or index differs from HEAD (untracked files count)."""
        return bool(self.dirty_paths(ignore))

    def diff_since(self, checkpoint: str) -> str:
        """Unified diff of the work tree (untracked files included) against ``checkpoint``."""
        with self._work_tree_index() as env:
            return self._git(
                "diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv",
                "--no-renames", "--full-index", checkpoint, "--", ".", _NO_RUNS,
                env=env, strip_newline_in_stdout=False,
            )  # fmt: skip

    def milestone_commits(self, plan_path: str, since: str | None = None) -> dict[str, CommitInfo]:
        """Milestone id -> its commit, for commits whose ``ExecPlan:`` trailer is ``plan_path``.

        Walks the first-parent history of HEAD (from ``since``, exclusive, if given) in one
        ``git log`` call. When a milestone was committed twice, the newest commit wins.
        """
        plan = Path(os.path.normpath(plan_path)).as_posix()
        revs = [f"{since}..HEAD"] if since else ["HEAD"]
        out = self._git(
            "log", "--first-parent", "-F", f"--grep=ExecPlan: {plan}",
            "--format=%H%x00%s%x00%(trailers:only,unfold)%x00", *revs, "--",
            strip_newline_in_stdout=False,
        )  # fmt: skip
        found: dict[str, CommitInfo] = {}
        fields = out.split("\0")
        for i in range(0, len(fields) - 2, 3):
            sha, subject, trailer_text = fields[i].strip(), fields[i + 1], fields[i + 2]
            trailers = parse_trailers(trailer_text)
            milestone = trailers.get("Milestone")
            if trailers.get("ExecPlan") != plan or not milestone or milestone in found:
                continue
            found[milestone] = CommitInfo(
                sha=sha, subject=subject, milestone=milestone, trailers=trailers
            )
        return found

    # -- changes ----------------------------------------------------------------

    def create_branch(self, name: str) -> None:
        """Create branch ``name`` at HEAD and switch to it; error if it exists."""
        try:
            self._git("rev-parse", "--verify", "-q", f"refs/heads/{name}")
        except GitError:
            self._git("checkout", "-q", "-b", name)
            return
        raise GitError(
            f"branch {name!r} already exists in {self.root} and another branch is checked "
            f"out; `git checkout {name}` and run the same line again to work on it, or choose "
            "another name (--branch, or run.branch in the config)"
        )

    def exclude_runs_dir(self) -> None:
        """Keep ``.agent/runs/`` out of git through ``.git/info/exclude`` (idempotent)."""
        if self._runs_excluded:
            return
        self.exclude_path(_EXCLUDE_LINE)
        self._runs_excluded = True

    def exclude_path(self, pattern: str) -> None:
        """Add ``pattern`` to ``.git/info/exclude`` (idempotent).

        The file is shared by every worktree of the repository, and the runs of a
        parallel batch start at the same moment: it is replaced atomically, so no run
        ever reads it half written (and drops the other lines when it adds its own).
        """
        exclude = Path(self._repo.common_dir) / "info" / "exclude"
        text = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        if pattern not in text.splitlines():
            sep = "" if not text or text.endswith("\n") else "\n"
            atomic_write(exclude, f"{text}{sep}{pattern}\n".encode())

    def add_worktree(self, path: Path, branch: str) -> None:
        """A new worktree at ``path`` on ``branch`` (made at HEAD unless it exists)."""
        try:
            self._git("rev-parse", "--verify", "-q", f"refs/heads/{branch}")
        except GitError:
            self._git("worktree", "add", "-q", "-b", branch, str(path), "HEAD")
            return
        self._git("worktree", "add", "-q", str(path), branch)

    def clone_to(self, path: Path) -> Repo:
        """A separate clone of HEAD at ``path`` (its own objects: nothing is shared back)."""
        self._git("clone", "-q", "--no-hardlinks", str(self.root), str(path))
        return Repo.open(path)

    def commit_paths(self, paths: Sequence[str], message: str) -> str:
        """Commit exactly ``paths`` (hooks skipped); returns the new sha."""
        self._git("add", "--", *paths)
        self._git("commit", "-q", "--no-verify", "-m", message, "--", *paths)
        return self.head()

    def commit_all(self, message: str, trailers: Mapping[str, str]) -> str:
        """Stage everything except ``.agent/runs`` and commit; returns the new sha.

        The commit is made even if nothing but the plan (or nothing at all) changed.
        Hooks are skipped: the orchestrator ran the validation itself.
        """
        body = message.rstrip("\n")
        if trailers:
            body += "\n\n" + "\n".join(f"{k}: {v}" for k, v in trailers.items())
        body = Redactor.from_env()(body)  # secrets never reach a commit message
        self.exclude_runs_dir()  # so that `add -A` leaves the run artefacts out
        self._git("add", "-A")
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".msg") as f:
            f.write(body + "\n")
            f.flush()
            try:
                self._git(
                    "commit", "-q", "--no-verify", "--allow-empty", "--cleanup=whitespace",
                    "-F", f.name,
                )  # fmt: skip
            except GitError as exc:
                if "identity" in exc.message or "user.email" in exc.message:
                    raise GitError(
                        f"git has no author identity in {self.root}; set it with "
                        "`git config user.name NAME` and `git config user.email EMAIL`"
                    ) from None
                raise
        return self.head()

    def reset_to(self, checkpoint: str) -> None:
        """Hard reset to ``checkpoint`` and remove untracked files (not ignored ones)."""
        self._git("reset", "-q", "--hard", checkpoint)
        self._git("clean", "-f", "-d", "-q", "-e", _EXCLUDE_LINE)
