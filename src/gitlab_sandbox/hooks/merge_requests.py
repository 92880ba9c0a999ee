"""The "Merge Request Hook" payload: attributes, ``changes`` (previous/current) and actions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitlab_sandbox.hooks.attrs import (
    JSON,
    commit_attrs,
    gitlab_time,
    label_attrs,
    project_attrs,
    repository_attrs,
    user_attrs,
)
from gitlab_sandbox.hooks.models import HookMergeRequest, HookProject, HookUser

MERGE_REQUEST_ACTIONS = frozenset(
    {
        "open",
        "close",
        "reopen",
        "update",
        "approved",
        "unapproved",
        "approval",
        "unapproval",
        "merge",
    }
)
MR_STATE_IDS = {"opened": 1, "closed": 2, "merged": 3, "locked": 4}


def merge_request_attrs(mr: HookMergeRequest, project: HookProject, action: str | None) -> JSON:
    """``object_attributes`` of a merge request event (and ``merge_request`` elsewhere)."""
    assignee_ids = [user.id for user in mr.assignees]
    attrs: JSON = {
        "id": mr.id,
        "iid": mr.iid,
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "source_project_id": mr.source_project_id,
        "target_project_id": mr.target_project_id,
        "author_id": mr.author_id,
        "assignee_ids": assignee_ids,
        "assignee_id": assignee_ids[0] if assignee_ids else None,
        "reviewer_ids": [user.id for user in mr.reviewers],
        "title": mr.title,
        "description": mr.description,
        "created_at": gitlab_time(mr.created_at),
        "updated_at": gitlab_time(mr.updated_at),
        "last_edited_at": gitlab_time(mr.last_edited_at),
        "last_edited_by_id": mr.last_edited_by_id,
        "updated_by_id": mr.updated_by_id,
        "milestone_id": mr.milestone_id,
        "state_id": MR_STATE_IDS.get(mr.state, 1),
        "state": mr.state,
        "blocking_discussions_resolved": mr.blocking_discussions_resolved,
        "work_in_progress": mr.draft,
        "draft": mr.draft,
        "first_contribution": False,
        "merge_status": mr.merge_status,
        "detailed_merge_status": mr.detailed_merge_status,
        "merge_commit_sha": mr.merge_commit_sha,
        "merge_user_id": mr.merge_user_id,
        "merge_when_pipeline_succeeds": mr.merge_when_pipeline_succeeds,
        "head_pipeline_id": mr.head_pipeline_id,
        "time_estimate": mr.time_estimate,
        "total_time_spent": mr.total_time_spent,
        "url": mr.url,
        "source": project_attrs(project),
        "target": project_attrs(project),
        "last_commit": commit_attrs(mr.last_commit) if mr.last_commit else None,
        "labels": [label_attrs(label, mr.target_project_id) for label in mr.labels],
    }
    if action is not None:
        attrs["action"] = action
    return attrs


def merge_request_changes(previous: HookMergeRequest, current: HookMergeRequest) -> JSON:
    """``changes``: previous/current for every tracked field that differs."""
    changes: JSON = {}
    scalar_fields = (
        "title",
        "description",
        "draft",
        "target_branch",
        "source_branch",
        "state",
        "merge_status",
        "milestone_id",
        "time_estimate",
        "total_time_spent",
        "updated_by_id",
        "merge_user_id",
        "head_pipeline_id",
        "blocking_discussions_resolved",
    )
    for name in scalar_fields:
        before, after = getattr(previous, name), getattr(current, name)
        if before != after:
            key = "state_id" if name == "state" else name
            if name == "state":
                before, after = MR_STATE_IDS.get(before, 1), MR_STATE_IDS.get(after, 1)
            changes[key] = {"previous": before, "current": after}
    for name in ("updated_at", "last_edited_at"):
        before_time, after_time = getattr(previous, name), getattr(current, name)
        if before_time != after_time:
            changes[name] = {
                "previous": gitlab_time(before_time),
                "current": gitlab_time(after_time),
            }
    for name in ("assignees", "reviewers"):
        before_users, after_users = getattr(previous, name), getattr(current, name)
        if [u.id for u in before_users] != [u.id for u in after_users]:
            changes[name] = {
                "previous": [user_attrs(u) for u in before_users],
                "current": [user_attrs(u) for u in after_users],
            }
    before_labels = [label_attrs(x, previous.target_project_id) for x in previous.labels]
    after_labels = [label_attrs(x, current.target_project_id) for x in current.labels]
    if [x["id"] for x in before_labels] != [x["id"] for x in after_labels]:
        changes["labels"] = {"previous": before_labels, "current": after_labels}
    return changes


def merge_request_event(
    project: HookProject,
    user: HookUser,
    mr: HookMergeRequest,
    action: str,
    *,
    previous: HookMergeRequest | None = None,
    oldrev: str | None = None,
    extra_changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> JSON:
    """A "Merge Request Hook" payload; ``oldrev`` only when new code was pushed."""
    if action not in MERGE_REQUEST_ACTIONS:
        raise ValueError(f"Unknown merge request action {action!r}.")
    attrs = merge_request_attrs(mr, project, action)
    if oldrev is not None:
        attrs["oldrev"] = oldrev
    changes = merge_request_changes(previous, mr) if previous is not None else {}
    changes |= {key: dict(value) for key, value in (extra_changes or {}).items()}
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": user_attrs(user),
        "project": project_attrs(project),
        "object_attributes": attrs,
        "labels": attrs["labels"],
        "changes": changes,
        "repository": repository_attrs(project),
        "assignees": [user_attrs(u) for u in mr.assignees],
        "reviewers": [user_attrs(u) for u in mr.reviewers],
    }
