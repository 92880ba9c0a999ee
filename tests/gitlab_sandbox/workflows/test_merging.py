"""Merging through the API with each merge method, checked with the git CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import gitlab
import pytest

from gitlab_sandbox.git.objects import RefMoved
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.workflows.conftest import GitClone, api, workflow_scenario


@pytest.fixture
def make_sandbox(
    make_sandbox: Callable[..., RunningSandbox],
) -> Callable[..., RunningSandbox]:
    """Synchronous sandboxes (GitLab's asynchrony off): these tests pin the merge API's answers
    right after a push or a rebase; ``test_asynchrony.py`` covers the default."""

    def start(scenario: dict[str, object], **options: object) -> RunningSandbox:
        return make_sandbox({**scenario, "asynchronous": False}, **options)

    return start


def _move_main(sandbox: RunningSandbox) -> None:
    """Put an unrelated commit on main so the MR's source no longer contains the target."""
    api(sandbox, "lead").projects.get("team/svc").commits.create(
        {
            "branch": "main",
            "commit_message": "Unrelated",
            "actions": [{"action": "create", "file_path": "other.txt", "content": "o\n"}],
        }
    )


def test_merge_method_merge_creates_a_merge_commit(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario("merge"))
    _move_main(sandbox)
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    head = mr.sha
    mr.merge(sha=head)
    assert mr.state == "merged"
    work = clone(sandbox, "dev", "team/svc")
    assert work.rev("origin/main") == mr.merge_commit_sha
    parents = work.parents("origin/main")
    assert len(parents) == 2
    assert parents[1] == head
    assert (
        "See merge request team/svc!1" in work.git("log", "-1", "--format=%B", "origin/main").stdout
    )


def test_rebase_merge_needs_rebase_then_merges_semi_linearly(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario("rebase_merge"))
    _move_main(sandbox)
    project = api(sandbox, "dev").projects.get("team/svc")
    mr = project.mergerequests.get(1)
    assert mr.detailed_merge_status == "need_rebase"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge()
    # lib/api/merge_requests.rb: not_allowed! (405) for any MR that is not mergeable.
    assert refused.value.response_code == 405
    mr.rebase()
    sandbox.wait_until(
        lambda: (
            not project.mergerequests.get(1, include_rebase_in_progress=True).rebase_in_progress
        ),
        what="the rebase",
    )
    mr = project.mergerequests.get(1)
    assert mr.merge_error is None
    assert mr.detailed_merge_status == "mergeable"
    mr.merge()
    work = clone(sandbox, "dev", "team/svc")
    first, second = work.parents("origin/main")
    assert second == mr.sha
    assert work.parents(second) == [first]  # the source sits directly on the old target


def test_fast_forward_only(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario("ff"))
    project = api(sandbox, "dev").projects.get("team/svc")
    mr = project.mergerequests.get(1)
    mr.merge()
    work = clone(sandbox, "dev", "team/svc")
    assert work.rev("origin/main") == mr.sha
    # doc/api/merge_requests.md: a fast-forward makes no merge commit, merge_commit_sha is null.
    assert mr.merge_commit_sha is None
    assert mr.squash_commit_sha is None
    assert len(work.parents("origin/main")) == 1


def test_fast_forward_refuses_when_behind(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(workflow_scenario("ff"))
    _move_main(sandbox)
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    assert mr.detailed_merge_status == "need_rebase"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge()
    assert refused.value.response_code == 405  # lib/api/merge_requests.rb: not_allowed!
    assert refused.value.error_message == "405 Method Not Allowed"


def test_squash_merge(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    sandbox = make_sandbox(workflow_scenario("ff"))
    project = api(sandbox, "dev").projects.get("team/svc")
    project.files.create(
        {
            "file_path": "second.txt",
            "branch": "feature",
            "content": "2\n",
            "commit_message": "Second",
        }
    )
    mr = project.mergerequests.get(1)
    mr.merge(squash=True, squash_commit_message="Feature, squashed")
    assert mr.squash_commit_sha is not None
    work = clone(sandbox, "dev", "team/svc")
    assert work.git("log", "-1", "--format=%s", "origin/main").stdout.strip() == "Feature, squashed"
    assert work.git("show", "--name-only", "--format=", "origin/main").stdout.split() == [
        "feature.txt",
        "second.txt",
    ]


def test_stale_sha_is_refused_with_409(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(workflow_scenario())
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge(sha="0" * 40)
    assert refused.value.response_code == 409
    assert "SHA does not match HEAD of source branch" in refused.value.error_message


def test_sha_is_checked_before_mergeability(make_sandbox: Callable[..., RunningSandbox]) -> None:
    """doc/api/merge_requests.md (GitLab 17/18): a stale ``sha`` is a 409 even when the MR
    is not mergeable either."""
    sandbox = make_sandbox(workflow_scenario("ff"))
    _move_main(sandbox)
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    assert mr.detailed_merge_status == "need_rebase"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge(sha="0" * 40)
    assert refused.value.response_code == 409


def test_unapproved_mr_that_needs_a_rebase_reads_not_approved(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """app/services/merge_requests/mergeability/detailed_merge_status_service.rb: approvals
    are checked before the git checks, so GitLab reads ``not_approved``, not ``need_rebase``."""
    sandbox = make_sandbox(workflow_scenario("ff", approvals_before_merge=1))
    _move_main(sandbox)
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    assert mr.detailed_merge_status == "not_approved"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge()
    assert refused.value.response_code == 405


def test_target_moving_under_the_merge_answers_422(
    make_sandbox: Callable[..., RunningSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """lib/api/merge_requests.rb: a merge that fails once accepted is ``422 Branch cannot be
    merged`` (GitLab 16+; 406 is no longer used); the MR stays open."""
    sandbox = make_sandbox(workflow_scenario())
    mr = api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1)
    assert mr.detailed_merge_status == "mergeable"
    original = BareRepo.set_branch

    def moved_meanwhile(
        self: BareRepo, name: str, sha: str, *, expected_old: str | None = None
    ) -> None:
        if name == "main":
            raise RefMoved("main moved")
        original(self, name, sha, expected_old=expected_old)

    monkeypatch.setattr(BareRepo, "set_branch", moved_meanwhile)
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge(sha=mr.sha)
    assert refused.value.response_code == 422
    assert refused.value.error_message == "Branch cannot be merged"
    monkeypatch.undo()
    assert api(sandbox, "dev").projects.get("team/svc").mergerequests.get(1).state == "opened"


def test_conflicts_are_reported_and_refused(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    scenario = workflow_scenario()
    scenario["projects"][0]["merge_requests"] = [
        {"source_branch": "left", "title": "Left", "author": "dev", "files": {"app.py": "left\n"}},
        {
            "source_branch": "right",
            "title": "Right",
            "author": "dev",
            "files": {"app.py": "right\n"},
        },
    ]
    sandbox = make_sandbox(scenario)
    project = api(sandbox, "dev").projects.get("team/svc")
    project.mergerequests.get(1).merge()
    right = project.mergerequests.get(2)
    assert right.has_conflicts is True
    assert right.detailed_merge_status == "conflict"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        right.merge()
    assert refused.value.response_code == 405  # lib/api/merge_requests.rb: not_allowed!
    right.rebase()
    sandbox.wait_until(
        lambda: (
            not project.mergerequests.get(2, include_rebase_in_progress=True).rebase_in_progress
        ),
        what="the rebase",
    )
    assert project.mergerequests.get(2).merge_error.startswith("Rebase failed")


def test_draft_and_pipeline_requirements_answer_405(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    scenario = workflow_scenario(only_allow_merge_if_pipeline_succeeds=True)
    scenario["ci"]["duration_seconds"] = [600, 600]
    sandbox = make_sandbox(scenario, clock_speed=0)
    project = api(sandbox, "dev").projects.get("team/svc")
    mr = project.mergerequests.get(1)
    assert mr.detailed_merge_status == "ci_still_running"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge()
    assert refused.value.response_code == 405
    mr.merge(merge_when_pipeline_succeeds=True)
    assert mr.merge_when_pipeline_succeeds is True
    assert mr.state == "opened"
    sandbox.advance_clock(601)
    sandbox.wait_until(lambda: project.mergerequests.get(1).state == "merged", what="auto-merge")
    merged = project.mergerequests.get(1)
    assert merged.merged_by["username"] == "dev"


def test_api_rebase_writes_the_commits_git_rebase_would(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    """Same author, author date, message and parent; committer = the user who asked, at the
    server's time: a client rebasing locally as that user in that second gets the same SHA
    (marge-bot's ``--rebase-remotely`` compares them)."""
    sandbox = make_sandbox(workflow_scenario("ff"))
    _move_main(sandbox)
    lead = api(sandbox, "lead")
    lead.auth()
    assert lead.user is not None
    frozen = datetime.fromisoformat(sandbox.set_clock_speed(0)["now"])
    work = clone(sandbox, "dev", "team/svc")
    work.env |= {
        "GIT_COMMITTER_NAME": lead.user.name,
        "GIT_COMMITTER_EMAIL": lead.user.email,
        "GIT_COMMITTER_DATE": f"{int(frozen.timestamp())} +0000",
    }
    work.git("checkout", "-q", "-b", "feature", "origin/feature")
    work.git("rebase", "-q", "origin/main")
    project = lead.projects.get("team/svc")
    project.mergerequests.get(1).rebase()
    sandbox.wait_until(
        lambda: (
            not project.mergerequests.get(1, include_rebase_in_progress=True).rebase_in_progress
        ),
        what="the rebase",
    )
    rebased = project.mergerequests.get(1)
    assert rebased.merge_error is None
    assert rebased.sha == work.rev("HEAD")


def test_auto_merge_is_set_on_a_draft_unapproved_unresolved_mr_and_merges_when_checks_pass(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """GitLab 17 "merge when checks pass" (``app/services/auto_merge/
    merge_when_checks_pass_service.rb``): ``availability_details`` offers it for any MR that
    is not mergeable yet; ``process`` merges once the head pipeline succeeded and the MR is
    mergeable, and does nothing before."""
    scenario = workflow_scenario(
        only_allow_merge_if_pipeline_succeeds=True,
        only_allow_merge_if_all_discussions_are_resolved=True,
        approvals_before_merge=1,
    )
    sandbox = make_sandbox(scenario)
    sandbox.wait_for_pipelines()
    lead = api(sandbox, "lead").projects.get("team/svc")
    dev = api(sandbox, "dev").projects.get("team/svc")
    mr = dev.mergerequests.get(1)
    mr.title = "Draft: Add feature"
    mr.save()
    thread = lead.mergerequests.get(1).discussions.create({"body": "Why this name?"})
    assert dev.mergerequests.get(1).detailed_merge_status == "draft_status"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        dev.mergerequests.get(1).merge()
    assert refused.value.response_code == 405

    set_up = dev.mergerequests.get(1).merge(auto_merge=True)
    assert (set_up["state"], set_up["merge_when_pipeline_succeeds"]) == ("opened", True)
    lead.mergerequests.get(1).approve()
    assert dev.mergerequests.get(1).state == "opened"  # still a draft with an open thread
    thread.resolved = True
    thread.save()
    assert dev.mergerequests.get(1).state == "opened"  # still a draft
    mr = dev.mergerequests.get(1)
    mr.title = "Add feature"
    mr.save()
    merged = dev.mergerequests.get(1)
    assert merged.state == "merged"
    assert merged.merged_by["username"] == "dev"


def test_auto_merge_waits_for_the_pipeline_of_the_head(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    scenario = workflow_scenario(
        only_allow_merge_if_pipeline_succeeds=True, approvals_before_merge=1
    )
    scenario["ci"]["duration_seconds"] = [600, 600]
    sandbox = make_sandbox(scenario, clock_speed=0)
    dev = api(sandbox, "dev").projects.get("team/svc")
    dev.mergerequests.get(1).merge(auto_merge=True)
    api(sandbox, "lead").projects.get("team/svc").mergerequests.get(1).approve()
    assert dev.mergerequests.get(1).state == "opened"  # approved, but CI still runs
    sandbox.advance_clock(601)
    sandbox.wait_until(lambda: dev.mergerequests.get(1).state == "merged", what="auto-merge")
