"""Start-up hooks of the linked environment, recorded at the checkpoint and compared.

The copy links the repository's own ``.venv`` (gitignored) so checks find
their dependencies. Python runs every ``.pth`` file's ``import`` lines and any
``sitecustomize``/``usercustomize`` module at start-up, so a file dropped there
by the agent would run inside every check. Their hashes are recorded when the
milestone starts; a new or changed one that executes code, or that adds a path
inside the repository, fails the validation round.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

_HOOK_NAMES = ("sitecustomize.py", "usercustomize.py")


def _site_dirs(env_dir: Path) -> list[Path]:
    found = list(env_dir.glob("lib/python*/site-packages"))
    found += list(env_dir.glob("lib64/python*/site-packages"))
    found += list(env_dir.glob("Lib/site-packages"))
    return found


def startup_hooks(repo_root: Path, environment: Sequence[str]) -> dict[str, str]:
    """Relative path -> sha256 of every ``.pth``/``*customize.py`` in the linked environments."""
    hashes: dict[str, str] = {}
    for name in environment:
        env_dir = repo_root / name
        if not env_dir.is_dir():
            continue
        for site in _site_dirs(env_dir):
            for path in [*site.glob("*.pth"), *(site / n for n in _HOOK_NAMES)]:
                if path.is_file():
                    rel = path.relative_to(repo_root).as_posix()
                    hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def _runs_code(path: Path, repo_root: Path) -> bool:
    if path.suffix == ".py":
        return True
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return True
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("import ", "import\t")):
            return True
        if stripped and not stripped.startswith("#"):
            target = (path.parent / stripped).resolve()
            if target == repo_root or repo_root in target.parents:
                return True
    return False


def tampered_hooks(
    repo_root: Path, before: dict[str, str], environment: Sequence[str]
) -> list[str]:
    """New or changed start-up hooks since ``before`` that run code or point into the repo."""
    now = startup_hooks(repo_root, environment)
    bad = []
    for rel, digest in sorted(now.items()):
        if before.get(rel) == digest:
            continue
        if _runs_code(repo_root / rel, repo_root.resolve()):
            bad.append(rel)
    return bad
