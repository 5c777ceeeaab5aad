"""The orchestrator is the only committer: refs stay where it left them.

codex's sandbox keeps the agent out of ``.git``, but a validation command (or a
process one of them leaves behind) runs with the orchestrator's rights and could
commit, reset, stash or move a branch. :class:`RefGuard` remembers HEAD and every
ref as the orchestrator last left them; after each codex step and validation it
compares, and on any difference it keeps what it found reachable under
``refs/orchestrator/tampered/<run>/<n>``, puts every ref back, resets the index
to HEAD (the work tree is left as it is) and says what happened.

Refs checked out in the repository's other worktrees (other plans running side
by side) and the ``refs/orchestrator/`` records of other runs are theirs to move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from orchestrator.errors import GitError
from orchestrator.store.git import Repo

log = structlog.get_logger()

NAMESPACE = "refs/orchestrator/"
TAMPERED = NAMESPACE + "tampered/"


@dataclass(frozen=True)
class RefSnapshot:
    """HEAD (as its file says it) and every watched ref."""

    head: str
    refs: dict[str, str]


def ref_values(repo: Repo, prefix: str = "") -> dict[str, str]:
    """Every ref (under ``prefix``) -> the object it names: one ``git for-each-ref``."""
    args = ["for-each-ref", "--format=%(refname) %(objectname)"]
    out = repo.git(*args, *([prefix] if prefix else []))
    found: dict[str, str] = {}
    for line in out.splitlines():
        name, _, sha = line.rpartition(" ")
        if name:
            found[name] = sha
    return found


def update_refs(repo: Repo, commands: Sequence[str], reason: str) -> None:
    """Apply ``git update-ref --stdin`` commands (``update REF NEW OLD`` ...) atomically."""
    data = "".join(f"{c}\n" for c in commands).encode("utf-8")
    repo.git("update-ref", "-m", reason, "--stdin", stdin=data)


class RefGuard:
    """HEAD and the refs as the orchestrator last left them."""

    def __init__(self, repo: Repo, run_id: str) -> None:
        self.repo = repo
        self.run_id = run_id
        dirs = repo.git("rev-parse", "--absolute-git-dir", "--git-common-dir").splitlines()
        self.git_dir = Path(dirs[0])
        common = Path(dirs[1])
        self.common_dir = (common if common.is_absolute() else repo.root / common).resolve()
        self.expected = self.snapshot()

    def _head_file(self) -> str:
        """What HEAD says: ``ref: refs/heads/NAME``, or a sha when detached (no process)."""
        return (self.git_dir / "HEAD").read_text(encoding="utf-8").strip()

    def _other_worktree_branches(self) -> set[str]:
        """Refs checked out in the repository's other worktrees (theirs to move)."""
        own = self.git_dir.resolve()
        heads = [self.common_dir / "HEAD", *sorted((self.common_dir / "worktrees").glob("*/HEAD"))]
        found: set[str] = set()
        for head in heads:
            if head.parent.resolve() == own:
                continue
            try:
                text = head.read_text(encoding="utf-8").strip()
            except OSError:
                continue
            if text.startswith("ref: "):
                found.add(text[5:])
        return found

    def _watched(self, name: str, others: set[str]) -> bool:
        if name in others:
            return False
        if name.startswith(NAMESPACE):
            return f"/{self.run_id}/" in name
        return True

    def snapshot(self) -> RefSnapshot:
        others = self._other_worktree_branches()
        refs = {k: v for k, v in ref_values(self.repo).items() if self._watched(k, others)}
        return RefSnapshot(head=self._head_file(), refs=refs)

    def refresh(self) -> None:
        """The orchestrator moved a ref itself (a commit, a reset): that is the new normal."""
        self.expected = self.snapshot()

    def moved(self, updates: Mapping[str, str]) -> None:
        """The orchestrator moved these refs itself (``HEAD`` through the branch it names,
        as ``git update-ref HEAD`` does); no process. Stricter than :meth:`refresh`:
        whatever else moved since the last check is still found by the next one."""
        refs = dict(self.expected.refs)
        head = self.expected.head
        for name, sha in updates.items():
            if name == "HEAD" and not head.startswith("ref: "):
                head = sha
            else:
                refs[head[5:] if name == "HEAD" else name] = sha
        self.expected = RefSnapshot(head=head, refs=refs)

    def check_and_restore(self, who: str, evidence_dir: Path | None = None) -> str | None:
        """None if nothing moved; else put everything back and say what it was."""
        now = self.snapshot()
        if now == self.expected:
            return None
        expected = self.expected
        changed = sorted(
            n for n in set(expected.refs) | set(now.refs) if expected.refs.get(n) != now.refs.get(n)
        )
        backups = self._backups(now, changed)
        commands: list[str] = []
        for name in changed:
            old, new = expected.refs.get(name), now.refs.get(name)
            if old is None:
                commands.append(f"delete {name} {new}")
            elif new is None:
                commands.append(f"create {name} {old}")
            else:
                commands.append(f"update {name} {old} {new}")
        commands += [f"create {ref} {sha}" for ref, sha in backups.items()]
        if now.head != expected.head and expected.head.startswith("ref: "):
            self.repo.git("symbolic-ref", "HEAD", expected.head[5:])
        elif now.head != expected.head:
            self.repo.git("update-ref", "--no-deref", "HEAD", expected.head)
        update_refs(self.repo, commands, "orchestrator: put back refs")
        self.repo.git("reset", "-q")  # the index follows HEAD; the work tree stays
        self.refresh()
        text = self._evidence(expected, now, changed, backups)
        log.warning("refs_restored", by=who, refs=changed, head_moved=now.head != expected.head)
        where = ""
        if evidence_dir is not None:
            evidence_dir.mkdir(parents=True, exist_ok=True)
            number = sum(1 for _ in evidence_dir.glob("*-refs.txt")) + 1
            path = evidence_dir / f"{number:03d}-refs.txt"
            path.write_text(text, encoding="utf-8")
            where = f" (evidence: {path})"
        return (
            f"{who} changed git refs (only the orchestrator commits): "
            f"{', '.join(changed) or 'HEAD'}; every ref was put back where the orchestrator "
            f"left it, the index reset to HEAD, the work tree left as it is{where}.\n{text}"
        )

    def _backups(self, now: RefSnapshot, changed: list[str]) -> dict[str, str]:
        """A backup ref for each object the tampering left a ref on, so nothing is lost."""
        number = len(ref_values(self.repo, f"{TAMPERED}{self.run_id}/"))
        backups: dict[str, str] = {}
        seen: set[str] = set()
        for name in changed:
            sha = now.refs.get(name)
            if sha is None or sha in seen:
                continue
            seen.add(sha)
            number += 1
            backups[f"{TAMPERED}{self.run_id}/{number}"] = sha
        return backups

    def _evidence(
        self, expected: RefSnapshot, now: RefSnapshot, changed: list[str], backups: dict[str, str]
    ) -> str:
        kept = {sha: ref for ref, sha in backups.items()}
        subjects = {}
        for sha in kept:
            try:
                subjects[sha] = self.repo.git("log", "-1", "--format=%s", sha, "--")
            except GitError:
                continue
        lines = []
        if now.head != expected.head:
            lines.append(f"HEAD: expected {expected.head!r}, found {now.head!r}")
        for name in changed:
            old, new = expected.refs.get(name), now.refs.get(name)
            line = f"{name}: expected {old or '(none)'}, found {new or '(deleted)'}"
            if new in kept:
                line += f" ({subjects.get(new, 'not a commit')!r}, kept as {kept[new]})"
            lines.append(line)
        return "\n".join(lines) + "\n"
