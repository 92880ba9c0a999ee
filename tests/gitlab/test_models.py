"""Models read GitLab's JSON as GitLab spells it, ignoring what they do not name."""

from __future__ import annotations

import base64

from merge_assist.gitlab.models import (
    CommitAction,
    Discussion,
    MergeRequest,
    PersonalAccessToken,
    RepositoryFile,
)

MR_FROM_GITLAB = {
    "id": 155016530,
    "iid": 133,
    "project_id": 15513260,
    "title": "Manual job rules",
    "description": "Demo",
    "state": "opened",
    "created_at": "2022-05-13T07:26:38.402Z",
    "updated_at": "2022-05-14T03:38:31.354Z",
    "target_branch": "main",
    "source_branch": "manual-job-rules",
    "author": {"id": 4155490, "username": "marcel.amirault", "name": "Marcel", "state": "active"},
    "assignees": [{"id": 7, "username": "merge-bot", "name": "Bot"}],
    "reviewers": [{"id": 8, "username": "ann", "name": "Ann"}],
    "labels": ["Merge Assist: Recognised for Merge"],
    "draft": False,
    "work_in_progress": False,
    "merge_when_pipeline_succeeds": False,
    "merge_status": "can_be_merged",
    "detailed_merge_status": "mergeable",
    "sha": "e82eb4a098e32c796079ca3915e07487fc4db24c",
    "merge_commit_sha": None,
    "squash_commit_sha": None,
    "user_notes_count": 0,
    "references": {"short": "!133", "relative": "!133", "full": "g/p!133"},
    "web_url": "https://gitlab.com/g/p/-/merge_requests/133",
    "has_conflicts": False,
    "blocking_discussions_resolved": True,
    "head_pipeline": {
        "id": 538317940,
        "sha": "e82e",
        "ref": "manual-job-rules",
        "status": "failed",
    },
    "diff_refs": {"base_sha": "aa", "head_sha": "bb", "start_sha": "aa"},
    "merge_error": None,
    "rebase_in_progress": False,
    "first_contribution": False,
    "task_completion_status": {"count": 0, "completed_count": 0},
    "some_future_field": {"nested": True},
}


def test_a_full_merge_request_parses_and_ignores_unknown_fields() -> None:
    mr = MergeRequest.model_validate(MR_FROM_GITLAB)
    assert mr.detailed_merge_status == "mergeable"
    assert mr.head_pipeline is not None
    assert mr.head_pipeline.status == "failed"
    assert mr.references is not None
    assert mr.references.full == "g/p!133"
    assert mr.involves(7)
    assert mr.involves(8)
    assert not mr.involves(9)
    assert not hasattr(mr, "some_future_field")


def test_a_minimal_merge_request_parses() -> None:
    mr = MergeRequest.model_validate(
        {"id": 1, "iid": 1, "project_id": 2, "source_branch": "a", "target_branch": "b"}
    )
    assert mr.assignees == []
    assert mr.labels == []
    assert mr.blocking_discussions_resolved


def test_discussions_know_when_a_thread_is_unresolved() -> None:
    thread = Discussion.model_validate(
        {"id": "abc", "notes": [{"id": 1, "body": "x", "resolvable": True, "resolved": False}]}
    )
    assert thread.unresolved
    done = Discussion.model_validate(
        {"id": "d", "notes": [{"id": 2, "body": "y", "resolvable": True, "resolved": True}]}
    )
    assert not done.unresolved


def test_files_decode_and_binary_actions_encode() -> None:
    data = bytes(range(256))
    file = RepositoryFile.model_validate(
        {"file_name": "a", "file_path": "a", "content": base64.b64encode(data).decode()}
    )
    assert file.decoded() == data
    action = CommitAction.with_bytes("create", "a", data)
    assert base64.b64decode(action.as_payload()["content"]) == data
    assert "last_commit_id" not in action.as_payload()


def test_token_expiry_is_a_date() -> None:
    token = PersonalAccessToken.model_validate({"id": 1, "expires_at": None, "scopes": ["api"]})
    assert token.expires_at is None
    assert token.active
