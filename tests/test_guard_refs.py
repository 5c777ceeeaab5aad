"""The orchestrator is the only committer: checks run with its rights (as today, outside
any sandbox) forge commits, reset history, make branches; each is undone and stops the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import GitError
from orchestrator.guard.history import missing_from_head, prepare_commit, publish_commit, record_ref
from orchestrator.guard.refs import RefGuard, update_refs
from orchestrator.guard.run_guard import RunGuard
from orchestrator.run.session import resume_run
from orchestrator.settings.model import Settings, VerifySettings
from orchestrator.store.git import Repo
from orchestrator.store.state import list_runs
from tests.supervisor_helpers import (
    PLAN_REL,
    TWO_FILES,
    approve_all,
    git,
    implement,
    invocations,
    log_subjects,
    make_settings,
    resume_plan,
    review_answer,
    rule,
    run_plan,
    step_answer,
    write_plan,
    write_scenario,
)

FORGE = (
    "git add -A && git commit -q -m 'feature: milestone 2: second' "
    f"-m 'ExecPlan: {PLAN_REL}' -m 'Milestone: 2'"
)


def _in_place(fake: Path) -> Settings:
    """Checks run as they did before verification copies: in the work tree, unsandboxed."""
    settings = make_settings(fake)
    verify = VerifySettings(isolation="in_place", sandbox="off", baseline=False)
    return settings.model_copy(update={"verify": verify})


def _tampered_refs(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/orchestrator/tampered/").split()


def test_a_check_that_forges_our_commit_is_undone(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(
        git_repo, [("first", ["test -f m1.txt"]), ("second", [f"test -f m2.txt && {FORGE}"])]
    )
    write_scenario(
        scenario_file,
        [implement("1", "touch m1.txt"), implement("2", "touch m2.txt"), approve_all()],
    )
    head_before = None
    code, state = run_plan(git_repo, _in_place(fake_codex))
    assert code == 3
    m1, m2 = state.milestones
    head_before = m1.commit
    assert m2.status == "needs_human"
    reason = m2.stop_reason or ""
    assert reason.startswith("a validation check changed git refs")
    assert "refs/heads/main" in reason
    assert git(git_repo, "rev-parse", "HEAD").strip() == head_before
    (backup,) = _tampered_refs(git_repo)
    assert backup == f"refs/orchestrator/tampered/{state.run_id}/1"
    assert (
        git(git_repo, "log", "-1", "--format=%s", backup).strip() == "feature: milestone 2: second"
    )
    assert "feature: milestone 2: second" not in log_subjects(git_repo)
    # the forged work is still there, uncommitted, for a person to look at
    assert (git_repo / "m2.txt").exists()
    assert "m2.txt" in git(git_repo, "status", "--porcelain")


def test_trailers_alone_do_not_make_a_milestone_done(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [
            implement("1", "touch m1.txt"),
            implement("2", "touch m2.txt"),
            rule(
                "m2 needs a human",
                contains="milestone=2",
                schema="verdict",
                answer=review_answer("needs_human", question="ok?"),
                times=1,
            ),  # fmt: skip
            approve_all(),
        ],
    )
    settings = _in_place(fake_codex)
    code, _ = run_plan(git_repo, settings)
    assert code == 3
    # between two invocations, something with the orchestrator's rights forges milestone 2
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "feature: milestone 2: second", "-m",
        f"ExecPlan: {PLAN_REL}", "-m", "Milestone: 2")  # fmt: skip
    forged = git(git_repo, "rev-parse", "HEAD").strip()
    code, state = resume_plan(git_repo, settings)
    assert code == 0
    m2 = state.milestones[1]
    assert m2.commit != forged  # validated, reviewed and committed by the orchestrator itself
    ours = git(git_repo, "log", "-1", "--format=%(trailers:key=Milestone,valueonly)", "HEAD~1")
    assert ours.strip() == "2"
    assert git(git_repo, "rev-parse", "HEAD~1").strip() == m2.commit
    assert m2.commit in git(git_repo, "rev-list", "HEAD").split()


def test_a_check_that_resets_history_is_undone(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    reset = "test -f m2.txt && git reset -q --hard HEAD~1"
    write_plan(git_repo, [("first", ["test -f m1.txt"]), ("second", [reset])])
    write_scenario(
        scenario_file,
        [implement("1", "touch m1.txt"), implement("2", "touch m2.txt"), approve_all()],
    )
    code, state = run_plan(git_repo, _in_place(fake_codex))
    assert code == 3
    m1, m2 = state.milestones
    assert "changed git refs" in (m2.stop_reason or "")
    assert git(git_repo, "rev-parse", "HEAD").strip() == m1.commit
    assert m1.commit in git(git_repo, "rev-list", "HEAD").split()
    assert log_subjects(git_repo)[0] == "feature: milestone 1: first"


def test_a_history_reset_between_invocations_stops_the_resume(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [
            implement("1", "touch m1.txt"),
            implement("2", status="needs_human", question="which?"),
            approve_all(),
        ],
    )
    settings = _in_place(fake_codex)
    code, state = run_plan(git_repo, settings)
    assert code == 3
    m1_commit = state.milestones[0].commit
    assert m1_commit is not None
    git(git_repo, "reset", "-q", "--hard", "HEAD~1")
    subjects = log_subjects(git_repo)
    code, state = resume_plan(git_repo, settings)
    assert code == 3
    assert "no longer in the history of HEAD" in (state.stop_reason or "")
    assert m1_commit[:12] in (state.stop_reason or "")
    assert log_subjects(git_repo) == subjects  # nothing committed on top
    git(git_repo, "reset", "-q", "--hard", m1_commit)  # a person brings it back
    repair = rule("repair", contains="step=repair milestone=2 ", commands=["touch m2.txt"],
                  answer=step_answer())  # fmt: skip
    write_scenario(scenario_file, [repair, approve_all()])
    code, state = resume_plan(git_repo, settings)
    assert code == 0
    assert state.milestones[0].commit == m1_commit


def test_a_check_that_makes_a_branch_and_stashes_is_undone(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    meddle = "test -f m1.txt && git branch sneaky && git stash -q -u"
    write_plan(git_repo, [("first", [meddle])])
    write_scenario(scenario_file, [implement("1", "touch m1.txt"), approve_all()])
    code, state = run_plan(git_repo, _in_place(fake_codex))
    assert code == 3
    reason = state.milestones[0].stop_reason or ""
    assert "refs/heads/sneaky" in reason
    assert "refs/stash" in reason
    assert git(git_repo, "branch", "--list", "sneaky") == ""
    assert git(git_repo, "stash", "list") == ""
    assert len(_tampered_refs(git_repo)) == 2  # both kept reachable


def test_head_switched_to_a_new_branch_is_put_back(git_repo: Path) -> None:
    guard = RefGuard(Repo.open(git_repo), "run-1")
    git(git_repo, "checkout", "-q", "-b", "evil")
    (git_repo / "x.txt").write_text("x\n")
    git(git_repo, "add", "x.txt")
    git(git_repo, "commit", "-q", "-m", "evil work")
    reason = guard.check_and_restore("a validation check")
    assert reason is not None
    assert "HEAD: expected 'ref: refs/heads/main', found 'ref: refs/heads/evil'" in reason
    assert git(git_repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(git_repo, "branch", "--list", "evil") == ""
    assert _tampered_refs(git_repo) == ["refs/orchestrator/tampered/run-1/1"]
    assert (git_repo / "x.txt").exists()  # the work tree is left as it is
    assert guard.check_and_restore("again") is None


def test_branches_of_other_worktrees_and_other_runs_are_theirs(git_repo: Path) -> None:
    guard = RefGuard(Repo.open(git_repo), "run-1")
    other = git_repo.parent / "other"
    git(git_repo, "worktree", "add", "-q", "-b", "plan-b", str(other))
    (other / "b.txt").write_text("b\n")
    git(other, "add", "b.txt")
    git(other, "commit", "-q", "-m", "plan b work")
    git(git_repo, "update-ref", "refs/orchestrator/tampered/run-2/1", "HEAD")
    assert guard.check_and_restore("a validation check") is None
    git(git_repo, "update-ref", "refs/orchestrator/tampered/run-1/9", "HEAD")
    assert guard.check_and_restore("a validation check") is not None


def test_rebuild_adopts_recorded_commits_only(
    git_repo: Path, fake_codex: Path, scenario_file: Path
) -> None:
    """A corrupt state is rebuilt from the records under .git, not from trailers: milestone 1
    (recorded) is adopted; a forged milestone 2 commit on top is not."""
    write_plan(git_repo, TWO_FILES)
    write_scenario(
        scenario_file,
        [
            implement("1", "touch m1.txt"),
            implement("2", status="needs_human", question="?"),
            approve_all(),
        ],  # fmt: skip
    )
    settings = _in_place(fake_codex)
    code, state = run_plan(git_repo, settings)
    assert code == 3
    m1_commit = state.milestones[0].commit
    git(git_repo, "commit", "-q", "--allow-empty", "-m", "feature: milestone 2: second",
        "-m", f"ExecPlan: {PLAN_REL}", "-m", "Milestone: 2")  # fmt: skip
    forged = git(git_repo, "rev-parse", "HEAD").strip()
    (git_repo / ".agent/runs" / state.run_id / "state.json").write_text("{broken")
    write_scenario(scenario_file, [implement("2", "touch m2.txt"), approve_all()])
    code = resume_run(
        repo=git_repo, plan_path=Path(PLAN_REL), run_id=None, rebuild=True, settings=settings
    )
    assert code == 0
    m1, m2 = list_runs(git_repo)[0].milestones
    assert m1.commit == m1_commit
    assert m2.commit not in (None, forged)
    assert [i["rule"] for i in invocations(scenario_file)].count("implement-1") == 1


def test_a_commit_is_published_with_its_record_in_one_transaction(git_repo: Path) -> None:
    repo = Repo.open(git_repo)
    before = repo.head()
    (git_repo / "code.py").write_text("x = 1\n", encoding="utf-8")
    sha, parent = prepare_commit(repo, "m1", {"Milestone": "1"})
    assert (parent, repo.head()) == (before, before)  # nothing moved yet
    assert missing_from_head(repo, [sha, before]) == [sha]
    published = publish_commit(repo, "run-1", "1", "m1", {"Milestone": "1"})
    assert repo.head() == published
    assert git(git_repo, "rev-parse", record_ref("run-1", "1")).strip() == published
    assert "commit (orchestrator)" in git(git_repo, "reflog", "-1")
    assert missing_from_head(repo, [published, before, "0" * 40]) == ["0" * 40]
    git(git_repo, "commit", "-q", "--allow-empty", "-m", "someone else")
    (git_repo / "more.py").write_text("y = 2\n", encoding="utf-8")
    stale_sha, stale_parent = prepare_commit(repo, "m2", {})
    git(git_repo, "commit", "-q", "--allow-empty", "-m", "HEAD moves meanwhile")
    with pytest.raises(GitError):  # the transaction refuses: HEAD is not at the parent
        update_refs(repo, [f"update HEAD {stale_sha} {stale_parent}"], "test")


@pytest.mark.parametrize("detached", [False, True])
def test_our_commit_is_expected_without_a_new_snapshot_and_a_foreign_ref_still_found(
    git_repo: Path, detached: bool
) -> None:
    repo = Repo.open(git_repo)
    if detached:
        git(git_repo, "checkout", "-q", "--detach")
    guard = RefGuard(repo, "run-1")
    (git_repo / "code.py").write_text("x = 1\n", encoding="utf-8")
    sha = publish_commit(repo, "run-1", "1", "m1", {"Milestone": "1"})
    guard.moved({"HEAD": sha, record_ref("run-1", "1"): sha})
    assert guard.check_and_restore("the next step") is None
    git(git_repo, "tag", "sneaky")  # moved between the last check and our commit
    sha = publish_commit(repo, "run-1", "2", "m2", {"Milestone": "2"})
    guard.moved({"HEAD": sha, record_ref("run-1", "2"): sha})
    reason = guard.check_and_restore("the next step")
    assert reason is not None
    assert "refs/tags/sneaky" in reason
    assert repo.head() == sha


def _run_guard(repo: Path) -> RunGuard:
    state_file = repo / ".agent" / "runs" / "r" / "state.json"
    return RunGuard(
        Repo.open(repo),
        Settings(),
        run_id="r",
        plan_rel=PLAN_REL,
        config_file=None,
        state_file=state_file,
        rewrite_state=lambda: None,
    )


def test_a_query_beside_the_ref_check_sees_the_refs_as_the_orchestrator_left_them(
    git_repo: Path,
) -> None:
    guard = _run_guard(git_repo)
    head = git(git_repo, "rev-parse", "HEAD").strip()
    assert guard.check_with("a check", guard.refs.repo.head) == (None, head)
    (git_repo / "x.txt").write_text("x", encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "not ours")
    found, seen = guard.check_with("a check", guard.refs.repo.head)
    assert found is not None
    assert "a check changed git refs" in found
    assert seen == head  # queried again once the branch was put back


def test_a_query_beside_the_ref_check_runs_after_gits_config_is_put_back(
    git_repo: Path,
) -> None:
    guard = _run_guard(git_repo)
    config = git_repo / ".git" / "config"
    before = config.read_text(encoding="utf-8")
    config.write_text(before + "[core]\n\thooksPath = /tmp/planted\n", encoding="utf-8")
    found, seen = guard.check_with("a check", lambda: config.read_text(encoding="utf-8"))
    assert found is not None
    assert ".git/config" in found
    assert seen == before
