"""Pipeline, note and push hook payloads (merge request events live in ``merge_requests``).

Pure functions over the inputs in ``hooks.models``, producing GitLab's documented JSON shapes.
"""

from __future__ import annotations

from collections.abc import Iterable

from gitlab_sandbox.hooks.attrs import (
    JSON,
    commit_attrs,
    gitlab_time,
    project_attrs,
    repository_attrs,
    user_attrs,
)
from gitlab_sandbox.hooks.merge_requests import merge_request_attrs
from gitlab_sandbox.hooks.models import (
    HookBuild,
    HookCommit,
    HookMergeRequest,
    HookNote,
    HookPipeline,
    HookProject,
    HookPush,
    HookUser,
)

PUSH_COMMITS_LIMIT = 20  # GitLab sends the newest 20 commits only


def build_attrs(build: HookBuild) -> JSON:
    """One entry of a pipeline hook's ``builds``."""
    return {
        "id": build.id,
        "stage": build.stage,
        "name": build.name,
        "status": build.status,
        "created_at": gitlab_time(build.created_at),
        "started_at": gitlab_time(build.started_at),
        "finished_at": gitlab_time(build.finished_at),
        "duration": build.duration,
        "queued_duration": build.queued_duration,
        "failure_reason": build.failure_reason,
        "when": build.when,
        "manual": build.manual,
        "allow_failure": build.allow_failure,
        "user": user_attrs(build.user) if build.user else None,
        "runner": _SANDBOX_RUNNER if build.started_at else None,
        "artifacts_file": {"filename": None, "size": None},
        "environment": None,
    }


_SANDBOX_RUNNER: JSON = {
    "id": 1,
    "description": "sandbox-runner",
    "active": True,
    "runner_type": "instance_type",
    "is_shared": True,
    "tags": [],
}


def pipeline_event(
    project: HookProject,
    user: HookUser,
    pipeline: HookPipeline,
    *,
    commit: HookCommit | None = None,
    merge_request: HookMergeRequest | None = None,
    builds: Iterable[HookBuild] = (),
) -> JSON:
    """A "Pipeline Hook" payload."""
    attrs: JSON = {
        "id": pipeline.id,
        "iid": pipeline.iid,
        "name": pipeline.name,
        "ref": pipeline.ref,
        "tag": pipeline.tag,
        "sha": pipeline.sha,
        "before_sha": pipeline.before_sha,
        "source": pipeline.source,
        "status": pipeline.status,
        "detailed_status": pipeline.detailed_status or pipeline.status,
        "stages": list(pipeline.stages),
        "created_at": gitlab_time(pipeline.created_at),
        "finished_at": gitlab_time(pipeline.finished_at),
        "duration": None if pipeline.duration is None else round(pipeline.duration),
        "queued_duration": (
            None if pipeline.queued_duration is None else round(pipeline.queued_duration)
        ),
        "variables": [{"key": key, "value": value} for key, value in pipeline.variables],
        "url": pipeline.url,
    }
    return {
        "object_kind": "pipeline",
        "object_attributes": attrs,
        "merge_request": _pipeline_merge_request(merge_request),
        "user": user_attrs(user),
        "project": project_attrs(project),
        "commit": commit_attrs(commit) if commit else None,
        "builds": [build_attrs(build) for build in builds],
    }


def _pipeline_merge_request(mr: HookMergeRequest | None) -> JSON | None:
    if mr is None:
        return None
    return {
        "id": mr.id,
        "iid": mr.iid,
        "title": mr.title,
        "source_branch": mr.source_branch,
        "source_project_id": mr.source_project_id,
        "target_branch": mr.target_branch,
        "target_project_id": mr.target_project_id,
        "state": mr.state,
        "merge_status": mr.merge_status,
        "detailed_merge_status": mr.detailed_merge_status,
        "url": mr.url,
    }


def note_event(
    project: HookProject,
    user: HookUser,
    note: HookNote,
    *,
    merge_request: HookMergeRequest | None = None,
    commit: HookCommit | None = None,
) -> JSON:
    """A "Note Hook" payload for a comment on a merge request or a commit."""
    attrs: JSON = {
        "id": note.id,
        "note": note.note,
        "noteable_type": note.noteable_type,
        "author_id": note.author_id,
        "created_at": gitlab_time(note.created_at),
        "updated_at": gitlab_time(note.updated_at),
        "project_id": note.project_id,
        "attachment": None,
        "line_code": None,
        "commit_id": note.commit_id,
        "noteable_id": note.noteable_id,
        "system": note.system,
        "st_diff": None,
        "discussion_id": note.discussion_id,
        "type": note.type,
        "resolvable": note.resolvable,
        "resolved": note.resolved,
        "action": note.action,
        "url": note.url,
    }
    payload: JSON = {
        "object_kind": "note",
        "event_type": "note",
        "user": user_attrs(user),
        "project_id": project.id,
        "project": project_attrs(project),
        "repository": repository_attrs(project),
        "object_attributes": attrs,
    }
    if merge_request is not None:
        payload["merge_request"] = merge_request_attrs(merge_request, project, None)
    if commit is not None:
        payload["commit"] = commit_attrs(commit)
    return payload


def push_event(project: HookProject, user: HookUser, push: HookPush) -> JSON:
    """A "Push Hook" payload (the newest 20 commits, ``total_commits_count`` of all)."""
    commits = list(push.commits)[-PUSH_COMMITS_LIMIT:]
    total = len(push.commits) if push.total_commits_count is None else push.total_commits_count
    checkout_sha = push.checkout_sha
    if checkout_sha is None and not push.branch_deleted:
        checkout_sha = push.after
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": push.before,
        "after": push.after,
        "ref": push.ref,
        "ref_protected": push.ref_protected,
        "checkout_sha": checkout_sha,
        "message": push.message,
        "user_id": user.id,
        "user_name": user.name,
        "user_username": user.username,
        "user_email": user.email,
        "user_avatar": user.avatar_url,
        "project_id": project.id,
        "project": project_attrs(project),
        "commits": [commit_attrs(commit, with_files=True) for commit in commits],
        "total_commits_count": total,
        "push_options": {},
        "repository": repository_attrs(project),
    }
