"""The tree the checks judge: the candidate with the checkpoint's protected files.

The candidate is the work tree exactly as the milestone's commit would hold it:
tracked files and new untracked ones, never what git ignores. Every protected
path that existed at the checkpoint gets its checkpoint content back (only its
protected sections for ``FILE#SECTION`` patterns); new files are kept. The
result is a git tree object, so materialising it and diffing it are cheap.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.store.git import Repo
from orchestrator.verify.protect import (
    Pattern,
    Protection,
    command_paths,
    protections,
    section_text,
    splice,
)

Entry = tuple[str, str]  # (mode, sha)


@dataclass(frozen=True)
class Verdict:
    """What a validation round runs over, and what it found about protected files."""

    candidate_tree: str
    tree: str
    changed_protected: list[str] = field(default_factory=list)
    protected: dict[str, Protection] = field(default_factory=dict)
    checkpoint_files: dict[str, Entry] = field(default_factory=dict)
    candidate_files: dict[str, Entry] = field(default_factory=dict)


def ls_tree(repo: Repo, treeish: str) -> dict[str, Entry]:
    """Path -> (mode, sha) of every file (and submodule) under ``treeish``."""
    out = repo.git("ls-tree", "-r", "-z", "--full-tree", treeish)
    entries: dict[str, Entry] = {}
    for item in out.split("\0"):
        meta, sep, path = item.partition("\t")
        if not sep:
            continue
        mode, _kind, sha = meta.split()
        entries[path] = (mode, sha)
    return entries


def blob_texts(repo: Repo, shas: list[str]) -> dict[str, str]:
    """sha -> text of many blobs, read by one ``git cat-file --batch``."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    raw = repo.git(
        "cat-file", "--batch", stdin="".join(f"{s}\n" for s in wanted).encode(), keep_newline=True
    ).encode("utf-8", "surrogateescape")
    texts: dict[str, str] = {}
    pos = 0
    for _ in wanted:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue  # missing, or not a blob
        size = int(header[2])
        texts[header[0].decode()] = raw[pos : pos + size].decode("utf-8", "replace")
        pos += size + 1
    return texts


def blob_text(repo: Repo, sha: str) -> str:
    return repo.git("cat-file", "blob", sha, keep_newline=True)


def _tree_with(repo: Repo, base_tree: str, updates: Sequence[tuple[str, str, str]]) -> str:
    """``base_tree`` with the given (mode, sha, path) entries replaced; a new tree sha."""
    with tempfile.TemporaryDirectory(prefix="orch-verdict-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        repo.git("read-tree", base_tree, env=env)
        info = "".join(f"{mode} {sha}\t{path}\0" for mode, sha, path in updates)
        repo.git("update-index", "-z", "--index-info", env=env, stdin=info.encode("utf-8"))
        return repo.git("write-tree", env=env)


def build_verdict(
    repo: Repo,
    *,
    checkpoint: str,
    patterns: Sequence[Pattern],
    commands: Sequence[str],
    overlay: bool = True,
    candidate_tree: str | None = None,
) -> Verdict:
    """The candidate tree, its verdict tree and the protected paths the milestone changed.

    ``overlay=False`` (the plan lets this milestone change its tests) judges with the
    candidate's own versions; the changed protected paths are still reported.
    """
    cand_tree = candidate_tree or repo.work_tree_snapshot()
    base = ls_tree(repo, checkpoint)
    cand = ls_tree(repo, cand_tree)
    prot = protections(base, patterns, command_paths(commands, set(base)))
    changed: list[str] = []
    updates: list[tuple[str, str, str]] = []
    for path, protection in sorted(prot.items()):
        old, new = base[path], cand.get(path)
        if new == old:
            continue
        if protection.whole or new is None:
            changed.append(path)
            updates.append((old[0], old[1], path))
            continue
        old_text, new_text = blob_text(repo, old[1]), blob_text(repo, new[1])
        sections = protection.sections
        if section_text(path, old_text, sections) == section_text(path, new_text, sections):
            continue
        changed.append(path)
        merged = splice(path, new_text, old_text, sections)
        sha = repo.git("hash-object", "-w", "--stdin", stdin=merged.encode("utf-8"))
        updates.append((new[0], sha, path))
    tree = _tree_with(repo, cand_tree, updates) if overlay and updates else cand_tree
    return Verdict(
        candidate_tree=cand_tree,
        tree=tree,
        changed_protected=changed,
        protected=prot,
        checkpoint_files=base,
        candidate_files=cand,
    )
