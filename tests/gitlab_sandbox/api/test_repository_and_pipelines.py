"""Repository endpoints and pipelines through python-gitlab."""

from __future__ import annotations

import base64
from collections.abc import Callable

import gitlab
import pytest

from gitlab_sandbox.testing import RunningSandbox


def test_commit_with_actions_and_stale_last_commit_id(
    client: Callable[[str], gitlab.Gitlab],
) -> None:
    project = client("bob").projects.get("acme/app")
    readme = project.files.get("README.md", ref="main")
    assert base64.b64decode(readme.content) == b"# app\n"
    commit = project.commits.create(
        {
            "branch": "main",
            "commit_message": "Edit readme",
            "actions": [
                {
                    "action": "update",
                    "file_path": "README.md",
                    "content": "# app v2\n",
                    "last_commit_id": readme.last_commit_id,
                },
                {"action": "create", "file_path": "docs/guide.md", "content": "guide\n"},
            ],
        }
    )
    assert project.commits.get(commit.id).title == "Edit readme"
    with pytest.raises(gitlab.GitlabCreateError) as stale:
        project.commits.create(
            {
                "branch": "main",
                "commit_message": "Stale edit",
                "actions": [
                    {
                        "action": "update",
                        "file_path": "README.md",
                        "content": "x\n",
                        "last_commit_id": readme.last_commit_id,
                    }
                ],
            }
        )
    assert stale.value.response_code == 400
    assert [item["name"] for item in project.repository_tree(path="docs", ref="main")] == [
        "guide.md"
    ]
    compare = project.repository_compare("feature-a", "main")
    assert {d["new_path"] for d in compare["diffs"]} >= {"README.md", "docs/guide.md"}


def test_update_file_refuses_a_stale_last_commit_id(
    client: Callable[[str], gitlab.Gitlab],
) -> None:
    project = client("bob").projects.get("acme/app")
    readme = project.files.get("README.md", ref="main")
    payload = {"branch": "main", "content": "# app v2\n", "commit_message": "Edit readme"}
    project.files.update("README.md", new_data={**payload, "last_commit_id": readme.last_commit_id})
    with pytest.raises(gitlab.GitlabUpdateError) as stale:
        project.files.update(
            "README.md",
            new_data={**payload, "content": "x\n", "last_commit_id": readme.last_commit_id},
        )
    assert stale.value.response_code == 400
    assert "changed since you started editing it" in str(stale.value.error_message)
    assert base64.b64decode(project.files.get("README.md", ref="main").content) == b"# app v2\n"


def test_developer_cannot_commit_to_protected_main(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    with pytest.raises(gitlab.GitlabCreateError) as refused:
        project.files.create(
            {"file_path": "x.txt", "branch": "main", "content": "x", "commit_message": "x"}
        )
    assert refused.value.response_code == 403


def test_branches(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    created = project.branches.create({"branch": "feature/slash", "ref": "main"})
    assert created.name == "feature/slash"
    assert (
        project.branches.get("feature/slash").commit["id"]
        == project.branches.get("main").commit["id"]
    )
    assert project.branches.get("main").protected is True
    project.branches.delete("feature/slash")
    with pytest.raises(gitlab.GitlabGetError):
        project.branches.get("feature/slash")


def test_mr_pipeline_cancel_and_retry(
    sandbox: RunningSandbox, client: Callable[[str], gitlab.Gitlab]
) -> None:
    sandbox.set_clock_speed(0)
    project = client("alice").projects.get("acme/app")
    mr = project.mergerequests.get(1)
    pipeline = mr.pipelines.create()
    assert pipeline.source == "merge_request_event"
    assert pipeline.ref == "refs/merge-requests/1/head"
    assert project.mergerequests.get(1).head_pipeline["id"] == pipeline.id
    running = project.pipelines.get(pipeline.id)
    running.cancel()
    # A running job is "canceling" until its runner stops it (GitLab 17), a waiting one is not.
    assert project.pipelines.get(pipeline.id).status in ("canceling", "canceled")
    sandbox.advance_clock(5)
    sandbox.wait_until(lambda: project.pipelines.get(pipeline.id).status == "canceled")
    project.pipelines.get(pipeline.id).retry()
    assert project.pipelines.get(pipeline.id).status in ("pending", "running")
    sandbox.set_clock_speed(100)
    sandbox.wait_for_pipelines()
    assert project.pipelines.get(pipeline.id).status == "success"


def test_approvals_reset_on_push(client: Callable[[str], gitlab.Gitlab]) -> None:
    bob = client("bob").projects.get("acme/app")
    bob.approvals_before_merge = 1
    bob.save()
    bob.mergerequests.get(1).approve()
    assert bob.mergerequests.get(1).detailed_merge_status == "mergeable"
    client("alice").projects.get("acme/app").files.create(
        {"file_path": "more.txt", "branch": "feature-a", "content": "m\n", "commit_message": "More"}
    )
    assert bob.mergerequests.get(1).approvals.get().approvals_left == 1
    assert bob.mergerequests.get(1).detailed_merge_status == "not_approved"


def test_gitlab_rebase_keeps_approvals_a_later_push_resets_them(
    client: Callable[[str], gitlab.Gitlab], sandbox: RunningSandbox
) -> None:
    """EE's ResetApprovalsService skips the head GitLab's own rebase made (marge-bot's
    ``--rebase-remotely`` relies on it); any other new head resets the approvals."""
    bob = client("bob").projects.get("acme/app")
    bob.approvals_before_merge = 1
    bob.save()
    bob.mergerequests.get(1).approve()
    bob.files.create(
        {"file_path": "main.txt", "branch": "main", "content": "m\n", "commit_message": "Main"}
    )
    before = bob.mergerequests.get(1).sha
    bob.mergerequests.get(1).rebase()
    sandbox.wait_until(
        lambda: not bob.mergerequests.get(1, include_rebase_in_progress=True).rebase_in_progress,
        what="the rebase",
    )
    rebased = bob.mergerequests.get(1)
    assert rebased.sha != before
    assert rebased.merge_error is None
    assert bob.mergerequests.get(1).approvals.get().approvals_left == 0
    client("alice").projects.get("acme/app").files.create(
        {"file_path": "more.txt", "branch": "feature-a", "content": "m\n", "commit_message": "More"}
    )
    assert bob.mergerequests.get(1).approvals.get().approvals_left == 1
