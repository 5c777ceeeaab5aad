"""Which milestones are done: the orchestrator's own record, checked against HEAD's history.

A milestone is done only when the orchestrator recorded its commit and that
commit is in the history of HEAD; commit trailers alone prove nothing (a process
with the orchestrator's rights can forge them). The record is twofold: the
run state (``MilestoneState.commit``) and a ref, ``refs/orchestrator/runs/<run>/
m-<milestone id in hex>``, that :func:`publish_commit` writes in the same git
transaction that moves HEAD to the commit. A kill between that transaction and
the state save therefore leaves a record :func:`settle_recorded` adopts on
resume (also after ``resume --rebuild``), never a commit made twice. The
record lives under ``.git``, which codex's sandbox cannot write, and the ref
guard puts back any ref a check adds there during a run.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping, Sequence

import structlog

from orchestrator.errors import GitError
from orchestrator.guard.refs import NAMESPACE, ref_values, update_refs
from orchestrator.redact import Redactor
from orchestrator.store.git import Repo
from orchestrator.store.state import MilestoneState, RunState

log = structlog.get_logger()

RECORDS = NAMESPACE + "runs/"


def record_ref(run_id: str, milestone_id: str) -> str:
    """The ref that records the commit of ``milestone_id`` in run ``run_id``."""
    return f"{RECORDS}{run_id}/m-{milestone_id.encode('utf-8').hex()}"


def prepare_commit(repo: Repo, message: str, trailers: Mapping[str, str]) -> tuple[str, str]:
    """Stage everything but ``.agent/runs`` and write the commit object, moving no ref;
    its sha and its parent (HEAD). Hooks never run: the orchestrator validated itself."""
    body = message.rstrip("\n")
    if trailers:
        body += "\n\n" + "\n".join(f"{k}: {v}" for k, v in trailers.items())
    body = Redactor.from_env()(body)  # secrets never reach a commit message
    repo.exclude_runs_dir()  # so that `add -A` leaves the run artefacts out
    repo.git("add", "-A")
    tree = repo.git("write-tree")
    parent = repo.head()
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".msg") as f:
        f.write(body + "\n")
        f.flush()
        try:
            sha = repo.git("commit-tree", tree, "-p", parent, "-F", f.name)
        except GitError as exc:
            if "identity" in exc.message or "user.email" in exc.message:
                raise GitError(
                    f"git has no author identity in {repo.root}; set it with "
                    "`git config user.name NAME` and `git config user.email EMAIL`"
                ) from None
            raise
    return sha.strip(), parent


def publish_commit(
    repo: Repo, run_id: str, milestone_id: str, message: str, trailers: Mapping[str, str]
) -> str:
    """Commit the work tree; HEAD and the milestone's record move in one transaction
    (which fails if HEAD moved since the commit object was made)."""
    sha, parent = prepare_commit(repo, message, trailers)
    commands = [f"update HEAD {sha} {parent}", f"update {record_ref(run_id, milestone_id)} {sha}"]
    update_refs(repo, commands, "commit (orchestrator)")
    return sha


def missing_from_head(repo: Repo, shas: Sequence[str]) -> list[str]:
    """Those of ``shas`` not in the history of HEAD (one process when all exist)."""
    if not shas:
        return []
    try:
        listed = set(repo.git("rev-list", *shas, "--not", "HEAD", "--").split())
    except GitError:  # an object that does not exist (any more)
        return [s for s in shas if _not_in_head(repo, s)]
    return [s for s in shas if s in listed]


def _not_in_head(repo: Repo, sha: str) -> bool:
    try:
        repo.git("merge-base", "--is-ancestor", sha, "HEAD")
    except GitError:
        return True
    return False


def recorded_milestone_commits(repo: Repo, plan_rel: str) -> dict[str, str]:
    """Milestone id -> commit, for the plan's milestone commits in HEAD's first-parent
    history that some run of the orchestrator recorded (trailers alone prove nothing)."""
    recorded = set(ref_values(repo, RECORDS).values())
    if not recorded:
        return {}
    found = repo.milestone_commits(plan_rel)
    return {mid: info.sha for mid, info in found.items() if info.sha in recorded}


def settle_recorded(state: RunState, repo: Repo) -> None:
    """Mark passed the milestones whose recorded commit HEAD's history has."""
    refs = ref_values(repo, f"{RECORDS}{state.run_id}/")
    candidates: dict[str, str] = {}
    for ms in state.milestones:
        sha = ms.commit or refs.get(record_ref(state.run_id, ms.id))
        if ms.status not in ("passed", "skipped") and sha:
            candidates[ms.id] = sha
    missing = set(missing_from_head(repo, list(candidates.values())))
    for ms in state.milestones:
        sha = candidates.get(ms.id)
        if sha is not None and sha not in missing:
            log.info("milestone_commit_confirmed", milestone=ms.id, commit=sha)
            ms.status, ms.commit, ms.phase = "passed", sha, "committed"
            ms.stop_reason = None
            ms.ended_at = ms.ended_at or time.time()


def lost_commits(state: RunState, repo: Repo) -> tuple[MilestoneState, str] | None:
    """The first milestone whose recorded commit HEAD's history lost, with the stop reason."""
    recorded = [ms for ms in state.milestones if ms.commit]
    missing = set(missing_from_head(repo, [ms.commit for ms in recorded if ms.commit]))
    lost = [ms for ms in recorded if ms.commit in missing]
    if not lost:
        return None
    listed = ", ".join(f"milestone {ms.id} ({(ms.commit or '')[:12]})" for ms in lost)
    first = (lost[0].commit or "")[:12]
    return lost[0], (
        f"the commit of {listed} is no longer in the history of HEAD: something other than "
        "the orchestrator reset or rewrote it. Nothing was committed on top. Bring it back "
        f"(e.g. `git reset --hard {first}` if nothing else was committed since, or "
        f"`git merge {first}`) and resume, or start over with `orchestrator run --fresh`."
    )
