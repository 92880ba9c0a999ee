"""Merge requests through unmodified python-gitlab: lists, filters, pagination, updates."""

from __future__ import annotations

from collections.abc import Callable

import gitlab
import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox


def test_list_filters(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("bob").projects.get("acme/app")
    opened = project.mergerequests.list(state="opened", get_all=True)
    assert sorted(mr.iid for mr in opened) == [1, 2]
    assert [mr.iid for mr in project.mergerequests.list(labels="bug", get_all=True)] == [2]
    assert [
        mr.iid for mr in project.mergerequests.list(source_branch="feature-a", get_all=True)
    ] == [1]
    assert [mr.iid for mr in project.mergerequests.list(reviewer_username="bob", get_all=True)] == [
        1
    ]
    assert project.mergerequests.list(state="merged", get_all=True) == []


def test_global_list_scopes(client: Callable[[str], gitlab.Gitlab]) -> None:
    gl = client("bob")
    assigned = gl.mergerequests.list(scope="assigned_to_me", state="opened", get_all=True)
    assert [mr.iid for mr in assigned] == [1]
    created = gl.mergerequests.list(get_all=True)  # default scope: created_by_me
    assert [mr.title for mr in created] == ["Draft: Fix B"]


def test_mr_fields(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    mr = project.mergerequests.get(1)
    assert mr.author["username"] == "alice"
    assert [u["username"] for u in mr.assignees] == ["bob"]
    assert mr.references["full"] == "acme/app!1"
    assert mr.web_url.endswith("/acme/app/-/merge_requests/1")
    assert mr.detailed_merge_status == "mergeable"
    assert mr.has_conflicts is False
    assert mr.diff_refs["head_sha"] == mr.sha
    draft = project.mergerequests.get(2)
    assert draft.draft is True
    assert draft.detailed_merge_status == "draft_status"


# What GitLab's list entries carry (MergeRequestBasic) and what only a single MR read has.
LIST_FIELDS = {
    "iid", "state", "sha", "draft", "title", "labels", "assignees", "reviewers", "author",
    "detailed_merge_status", "has_conflicts", "blocking_discussions_resolved", "updated_at",
    "source_branch", "target_branch", "source_project_id", "web_url",
}  # fmt: skip
DETAIL_ONLY = {"head_pipeline", "pipeline", "diff_refs", "merge_error", "changes_count", "user"}


def test_list_entries_have_the_list_shape(sandbox: RunningSandbox) -> None:
    response = httpx.get(
        f"{sandbox.api_url}/projects/acme%2Fapp/merge_requests",
        params=[("state", "all"), ("iids[]", "1"), ("iids[]", "2"), ("iids[]", "99")],
        headers={"PRIVATE-TOKEN": sandbox.token_for("alice")},
    )
    assert response.status_code == 200
    entries = response.json()
    assert sorted(entry["iid"] for entry in entries) == [1, 2]  # an unknown iid is left out
    for entry in entries:
        assert set(entry) >= LIST_FIELDS, LIST_FIELDS - set(entry)
        assert not DETAIL_ONLY & set(entry), DETAIL_ONLY & set(entry)


def test_pagination_headers(sandbox: RunningSandbox) -> None:
    response = httpx.get(
        f"{sandbox.api_url}/projects/acme%2Fapp/merge_requests",
        params={"per_page": 1, "page": 1},
        headers={"PRIVATE-TOKEN": sandbox.token_for("alice")},
    )
    assert response.status_code == 200
    headers = response.headers
    assert (headers["X-Page"], headers["X-Per-Page"], headers["X-Total"]) == ("1", "1", "2")
    assert (headers["X-Total-Pages"], headers["X-Next-Page"], headers["X-Prev-Page"]) == (
        "2",
        "2",
        "",
    )
    assert 'rel="next"' in headers["Link"]
    assert "page=2" in headers["Link"]
    assert len(response.json()) == 1


def test_keyset_pagination_only_where_gitlab_offers_it(sandbox: RunningSandbox) -> None:
    """``lib/api/helpers/pagination_strategies.rb``: ``pagination=keyset`` on a relation
    ``Gitlab::Pagination::Keyset.available?`` does not accept (merge requests, or projects
    not ordered by id) is ``405 {"error": "Keyset pagination is not yet available ..."}``."""
    headers = {"PRIVATE-TOKEN": sandbox.token_for("alice")}
    refused = [
        httpx.get(f"{sandbox.api_url}/{path}", params=params, headers=headers)
        for path, params in (
            ("projects/acme%2Fapp/merge_requests", {"pagination": "keyset", "per_page": 1}),
            ("projects", {"pagination": "keyset", "order_by": "name"}),
        )
    ]
    for response in refused:
        assert response.status_code == 405
        assert response.json() == {
            "error": "Keyset pagination is not yet available for this type of request"
        }
    projects = httpx.get(
        f"{sandbox.api_url}/projects",
        params={"pagination": "keyset", "order_by": "id", "per_page": 1},
        headers=headers,
    )
    assert projects.status_code == 200
    assert len(projects.json()) == 1


def test_python_gitlab_follows_pages(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    assert len(project.mergerequests.list(per_page=1, get_all=True)) == 2
    assert len(list(project.mergerequests.list(per_page=1, iterator=True))) == 2


def test_create_update_labels_and_close(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    project.branches.create({"branch": "topic", "ref": "main"})
    project.files.create(
        {"file_path": "t.txt", "branch": "topic", "content": "t\n", "commit_message": "Add t"}
    )
    mr = project.mergerequests.create(
        {"source_branch": "topic", "target_branch": "main", "title": "Topic", "labels": "bug"}
    )
    assert mr.iid == 3
    assert mr.labels == ["bug"]
    mr.labels = ["feature"]
    mr.save()
    assert project.mergerequests.get(3).labels == ["feature"]
    updated = project.mergerequests.update(3, {"add_labels": "urgent", "remove_labels": "feature"})
    assert updated["labels"] == ["urgent"]
    assert "urgent" in [label.name for label in project.labels.list(get_all=True)]
    mr = project.mergerequests.get(3)
    mr.state_event = "close"
    mr.save()
    assert project.mergerequests.get(3).state == "closed"
    with pytest.raises(gitlab.GitlabCreateError) as duplicate:
        project.mergerequests.create(
            {"source_branch": "feature-a", "target_branch": "main", "title": "x"}
        )
    assert duplicate.value.response_code == 409


def test_create_refuses_missing_fields(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("alice").projects.get("acme/app")
    with pytest.raises(gitlab.GitlabCreateError) as refused:
        project.mergerequests.create(
            {"source_branch": "feature-a", "target_branch": "main", "title": ""}
        )
    assert refused.value.response_code == 400
    assert "title is missing" in str(refused.value.error_message)


def test_notes_and_discussions(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("bob").projects.get("acme/app")
    mr = project.mergerequests.get(1)
    note = mr.notes.create({"body": "Looks good"})
    assert note.author["username"] == "bob"
    thread = mr.discussions.create({"body": "Please rename this"})
    assert thread.attributes["notes"][0]["resolvable"] is True
    assert project.mergerequests.get(1).user_notes_count == 2
    project.only_allow_merge_if_all_discussions_are_resolved = True
    project.save()
    blocked = project.mergerequests.get(1)
    assert blocked.blocking_discussions_resolved is False
    assert blocked.detailed_merge_status == "discussions_not_resolved"
    thread.resolved = True
    thread.save()
    assert project.mergerequests.get(1).detailed_merge_status == "mergeable"
    assert [n.body for n in mr.notes.list(get_all=True)] == ["Please rename this", "Looks good"]


def test_approvals(client: Callable[[str], gitlab.Gitlab]) -> None:
    project = client("root").projects.get("acme/app")
    project.approvals_before_merge = 1
    project.save()
    mr_as_alice = client("alice").projects.get("acme/app").mergerequests.get(1)
    assert mr_as_alice.detailed_merge_status == "not_approved"
    with pytest.raises(gitlab.GitlabAuthenticationError):
        mr_as_alice.approve()  # authors cannot approve their own MR
    mr_as_bob = client("bob").projects.get("acme/app").mergerequests.get(1)
    mr_as_bob.approve()
    approvals = mr_as_bob.approvals.get()
    assert approvals.approved is True
    assert approvals.approvals_left == 0
    assert [a["user"]["username"] for a in approvals.approved_by] == ["bob"]
    assert mr_as_bob.approval_state.get().rules[0]["approved"] is True
    assert (
        client("bob").projects.get("acme/app").mergerequests.get(1).detailed_merge_status
        == "mergeable"
    )
    mr_as_bob.unapprove()
    assert mr_as_bob.approvals.get().approvals_left == 1


def test_changes_commits_and_diffs(client: Callable[[str], gitlab.Gitlab]) -> None:
    mr = client("alice").projects.get("acme/app").mergerequests.get(1)
    changes = mr.changes()
    assert [c["new_path"] for c in changes["changes"]] == ["a.txt"]
    assert changes["changes"][0]["new_file"] is True
    assert [c.title for c in mr.commits()] == ["Add feature A"]
    assert mr.diffs.list(get_all=True)
