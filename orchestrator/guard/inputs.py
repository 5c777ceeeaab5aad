"""The orchestrator's own inputs, kept as a person wrote them.

Hooks, the checks' shell and the codex binary run with the orchestrator's
rights, outside codex's sandbox; they are read from ``.agent/orchestrator.toml``
and the files it names, which the agent can edit like any other file in the work
tree. :class:`InputsKeeper` snapshots them when the run starts (in memory, where
no process of the agent can reach) and, after every codex step, every validation
and before every commit, restores any change and says what it was.

Protected: every file under ``.agent/`` except the runs directory, the plan
worktrees of parallel runs and the plan (the plan has its own keeper), the
config file if it lies in the repository, files in the repository that the
settings name as programs: hook scripts (any file a hook command names), the
checks' shell and the codex binary (and what their symbolic links point to);
and git's own configuration and hooks (``config``, ``config.worktree``,
``hooks/``), which every git command the orchestrator runs obeys.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from orchestrator.paths import RUNS_DIR, WORKTREES_DIR, find_codex, git_dir_of
from orchestrator.settings.model import Settings
from orchestrator.store.atomic import atomic_write

log = structlog.get_logger()

AGENT_DIR = ".agent"
MAX_KEPT_BYTES = 16 * 1024 * 1024  # larger files are watched by digest, not restored
DIFF_LIMIT = 4000
_WORD = re.compile(r"[^\s;|&<>()`'\"=,]+")


@dataclass(frozen=True)
class Entry:
    """One protected path as it was: a file (content kept if not too big) or a link.

    A kept file is compared by its content; ``digest`` (sha256) stands in for the
    content of a file too big to keep, and of a link's target."""

    kind: str  # "file" | "link"
    digest: str  # "" for a kept file: its data is compared instead
    mode: int = 0o644
    data: bytes | None = None  # None for links and files over MAX_KEPT_BYTES
    target: str | None = None  # link target


def _read(path: str | Path) -> Entry | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        return Entry("link", hashlib.sha256(target.encode()).hexdigest(), target=target)
    if not stat.S_ISREG(st.st_mode):
        return None
    with open(path, "rb") as f:
        data = f.read()
    if len(data) <= MAX_KEPT_BYTES:
        return Entry("file", "", mode=stat.S_IMODE(st.st_mode), data=data)
    return Entry("file", hashlib.sha256(data).hexdigest(), mode=stat.S_IMODE(st.st_mode))


def _inside(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX), or None when it lies outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _program_paths(root: Path, word: str) -> list[Path]:
    """The files in the repository a program word names (itself and what its links reach)."""
    word = word.replace("${ORCH_REPO}", str(root)).replace("$ORCH_REPO", str(root))
    if not word or word.startswith("-"):
        return []
    if "/" in word:
        candidate = Path(word) if os.path.isabs(word) else root / word
    else:
        found = shutil.which(word)
        candidate = Path(found) if found else root / word
    if not candidate.is_file():
        return []
    found_paths = [Path(os.path.abspath(candidate))]
    real = candidate.resolve()
    if real != found_paths[0]:
        found_paths.append(real)
    return found_paths


def git_files(root: Path) -> tuple[list[str], list[str]]:
    """Git's configuration files and hook directories of the repository (absolute paths)."""
    git_dir = git_dir_of(root / ".git")
    if git_dir is None:
        return [], []
    common = git_dir
    pointer = git_dir / "commondir"
    if pointer.is_file():
        text = pointer.read_text(encoding="utf-8").strip()
        common = (git_dir / text).resolve() if not os.path.isabs(text) else Path(text)
    files = [str(common / "config"), str(git_dir / "config.worktree")]
    return files, [str(common / "hooks")]


def program_files(root: Path, settings: Settings, config_file: Path | None) -> list[str]:
    """Files inside ``root`` the settings run with the orchestrator's rights (sorted)."""
    root = root.resolve()
    words: list[str] = [settings.checks.shell]
    words.append(find_codex(settings.codex.binary) or "codex")
    for event in ("milestone_passed", "needs_human", "gave_up", "run_finished"):
        for command in getattr(settings.hooks, event):
            words.extend(_WORD.findall(command))
    paths: set[str] = set()
    for word in words:
        for path in _program_paths(root, word):
            rel = _inside(root, path)
            if rel is not None:
                paths.add(rel)
    if config_file is not None:
        rel = _inside(root, Path(os.path.abspath(config_file)))
        if rel is not None:
            paths.add(rel)
    return sorted(paths)


class InputsKeeper:
    """``.agent/`` and the program files the settings name, as they were at the start."""

    def __init__(
        self,
        root: Path,
        *,
        extra: Iterable[str] = (),
        skip: Iterable[str] = (),
        extra_dirs: Iterable[str] = (),
    ) -> None:
        self.root = root.resolve()
        self.extra = sorted(set(extra))
        self.extra_dirs = sorted(set(extra_dirs))
        self.skip = set(skip)
        self.snapshot = self._scan()
        self.dirs = self._agent_dirs()

    @classmethod
    def for_run(
        cls, root: Path, settings: Settings, *, plan_rel: str, config_file: Path | None = None
    ) -> InputsKeeper:
        files, dirs = git_files(root)
        extra = [*program_files(root, settings, config_file), *files]
        return cls(root, extra=extra, skip=[plan_rel], extra_dirs=dirs)

    def paths(self) -> list[str]:
        """The protected paths as they are now and were at the start."""
        return sorted(set(self.snapshot) | set(self._scan()))

    def _agent_files(self) -> Iterable[str]:
        # plain strings, not Paths: this runs after every step and check
        root = os.path.join(str(self.root), "")  # with its final slash
        theirs = (RUNS_DIR.as_posix(), WORKTREES_DIR)
        for dirpath, dirnames, filenames in os.walk(root + AGENT_DIR):
            rel_dir = dirpath[len(root) :]  # os.walk keeps the top's spelling
            keep = []
            for d in dirnames:
                rel = f"{rel_dir}/{d}"
                if rel in theirs:
                    continue
                if os.path.islink(os.path.join(dirpath, d)):
                    yield rel  # a link to a directory is watched as a link
                else:
                    keep.append(d)
            dirnames[:] = keep
            for name in filenames:
                yield f"{rel_dir}/{name}"

    def _extra_dir_files(self) -> Iterable[str]:
        for base in self.extra_dirs:
            for dirpath, _dirnames, filenames in os.walk(base):
                for name in filenames:
                    yield os.path.join(dirpath, name)

    def _scan(self) -> dict[str, Entry]:
        root = str(self.root)
        found: dict[str, Entry] = {}
        for rel in [*self._agent_files(), *self.extra, *self._extra_dir_files()]:
            if rel in self.skip or rel in found:
                continue
            entry = _read(os.path.join(root, rel))  # an absolute ``rel`` stays as it is
            if entry is not None:
                found[rel] = entry
        return found

    def check_and_restore(self, who: str, evidence_dir: Path | None = None) -> str | None:
        """None if nothing changed; else restore every change and say what it was."""
        now = self._scan()
        changed = sorted(
            p for p in set(self.snapshot) | set(now) if self.snapshot.get(p) != now.get(p)
        )
        if not changed:
            return None
        diffs: list[str] = []
        unrestorable: list[str] = []
        for rel in changed:
            before = self.snapshot.get(rel)
            diffs.append(_diff(rel, before, self.root / rel))
            if not self._restore(rel, before):
                unrestorable.append(rel)
        self._remove_new_dirs()
        text = "\n".join(diffs)
        log.warning("protected_edit_reverted", paths=changed, by=who, unrestorable=unrestorable)
        where = ""
        if evidence_dir is not None:
            evidence_dir.mkdir(parents=True, exist_ok=True)
            number = sum(1 for _ in evidence_dir.glob("*-inputs.diff")) + 1
            path = evidence_dir / f"{number:03d}-inputs.diff"
            path.write_text(text, encoding="utf-8")
            where = f" (full diff: {path})"
        reason = (
            f"{who} changed files the orchestrator runs or reads with its own rights "
            f"({', '.join(changed)}); "
            + (
                f"the change was reverted except for {', '.join(unrestorable)} (too large to "
                "keep a copy: restore it by hand)"
                if unrestorable
                else "the change was reverted"
            )
            + f". Only a person edits these; make the change yourself if it is wanted, then "
            f"resume{where}.\n"
        )
        if len(text) > DIFF_LIMIT:
            text = text[:DIFF_LIMIT] + f"\n... ({len(text) - DIFF_LIMIT} more characters)"
        return reason + text

    def _restore(self, rel: str, before: Entry | None) -> bool:
        path = self.root / rel
        if before is not None and before.kind == "file" and before.data is None:
            return False  # no copy to restore from: left as found, for a person to see
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        if before is None:
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        if before.kind == "link":
            assert before.target is not None
            os.symlink(before.target, path)
            return True
        assert before.data is not None
        atomic_write(path, before.data)
        os.chmod(path, before.mode)
        return True

    def _agent_dirs(self) -> set[Path]:
        theirs = (self.root / RUNS_DIR, self.root / WORKTREES_DIR)
        found = {self.root / AGENT_DIR, *theirs}
        for dirpath, dirnames, _files in os.walk(self.root / AGENT_DIR):
            d = Path(dirpath)
            dirnames[:] = [n for n in dirnames if d / n not in theirs]
            found.add(d)
        return found

    def _remove_new_dirs(self) -> None:
        """Directories the change added under ``.agent/``, once empty."""
        for d in sorted(self._agent_dirs() - self.dirs, key=lambda p: -len(p.parts)):
            if not any(d.iterdir()):
                d.rmdir()


def _diff(rel: str, before: Entry | None, path: Path) -> str:
    after = _read(path)
    if before is not None and after is not None and before.kind == after.kind == "file":
        if before.data is not None:
            try:
                old = before.data.decode("utf-8").splitlines(keepends=True)
                new = path.read_bytes().decode("utf-8").splitlines(keepends=True)
            except UnicodeDecodeError:
                return f"binary file {rel} changed\n"
            return "".join(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}"))
        return f"file {rel} changed (sha256 {before.digest[:12]} -> {after.digest[:12]})\n"
    if before is None:
        if after is not None and after.kind == "file":
            try:
                new = path.read_bytes().decode("utf-8").splitlines(keepends=True)
            except UnicodeDecodeError:
                return f"new binary file {rel}\n"
            return "".join(difflib.unified_diff([], new, "/dev/null", f"b/{rel}"))
        return f"new {after.kind if after else 'entry'} {rel}\n"
    if after is None:
        return f"{rel} was deleted\n"
    return f"{rel} changed from a {before.kind} to a {after.kind}\n"
