"""Webhook events: the store's records turned into GitLab payloads and queued per hook."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gitlab_sandbox.ci.pipeline import DETAILED_STATUS
from gitlab_sandbox.git.objects import ZERO_SHA, CommitInfo
from gitlab_sandbox.hooks.dispatcher import DeliveryRecord, HookTarget
from gitlab_sandbox.hooks.merge_requests import merge_request_event as build_merge_request_event
from gitlab_sandbox.hooks.models import (
    HookBuild,
    HookCommit,
    HookLabel,
    HookMergeRequest,
    HookNote,
    HookPipeline,
    HookProject,
    HookPush,
    HookUser,
)
from gitlab_sandbox.hooks.payloads import note_event as build_note_event
from gitlab_sandbox.hooks.payloads import pipeline_event as build_pipeline_event
from gitlab_sandbox.hooks.payloads import push_event as build_push_event
from gitlab_sandbox.mergeability import detailed_merge_status, merge_status
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.merge_requests import discussions_resolved, merge_facts
from gitlab_sandbox.store import MergeRequest, Note, Pipeline, Project, ProjectHook, User

log = logging.getLogger("gitlab_sandbox.events")

_VISIBILITY = {"private": 0, "internal": 10, "public": 20}


def hook_user(user: User | None) -> HookUser:
    if user is None:
        return HookUser(id=0, name="Ghost User", username="ghost")
    return HookUser(id=user.id, name=user.name, username=user.username)


def hook_project(sandbox: Sandbox, project: Project) -> HookProject:
    return HookProject(
        id=project.id,
        name=project.name,
        path_with_namespace=project.path_with_namespace,
        web_url=f"{sandbox.base_url}/{project.path_with_namespace}",
        namespace=project.namespace,
        description=project.description,
        default_branch=project.default_branch,
        visibility_level=_VISIBILITY.get(project.visibility, 0),
    )


def hook_commit(sandbox: Sandbox, project: Project, info: CommitInfo) -> HookCommit:
    return HookCommit(
        id=info.id,
        message=info.message,
        title=info.title,
        timestamp=info.committed_date,
        url=f"{sandbox.base_url}/{project.path_with_namespace}/-/commit/{info.id}",
        author_name=info.author.name,
        author_email=info.author.email,
    )


def hook_merge_request(sandbox: Sandbox, project: Project, mr: MergeRequest) -> HookMergeRequest:
    """The MR's state now, as hooks show it."""
    facts = merge_facts(sandbox, project, mr)
    users = sandbox.store.users
    last_commit = None
    if mr.sha:
        try:
            last_commit = hook_commit(sandbox, project, sandbox.repo(project).commit(mr.sha))
        except Exception:  # the commit may have been garbage; the payload still goes out
            last_commit = None
    head = sandbox.store.pipeline_for_mr(mr)
    return HookMergeRequest(
        id=mr.id,
        iid=mr.iid,
        title=mr.title,
        source_branch=mr.source_branch,
        target_branch=mr.target_branch,
        source_project_id=mr.source_project_id,
        target_project_id=mr.target_project_id,
        author_id=mr.author_id,
        state=mr.state,
        description=mr.description,
        draft=mr.draft,
        url=f"{sandbox.base_url}/{project.path_with_namespace}/-/merge_requests/{mr.iid}",
        created_at=mr.created_at,
        updated_at=mr.updated_at,
        merge_status=merge_status(facts),
        detailed_merge_status=detailed_merge_status(facts),
        assignees=tuple(hook_user(users.get(uid)) for uid in mr.assignee_ids),
        reviewers=tuple(hook_user(users.get(uid)) for uid in mr.reviewer_ids),
        labels=tuple(HookLabel.named(name, project.id) for name in mr.labels),
        last_commit=last_commit,
        merge_commit_sha=mr.merge_commit_sha,
        head_pipeline_id=head.id if head else None,
        blocking_discussions_resolved=discussions_resolved(mr),
        merge_user_id=mr.merge_user_id,
        merge_when_pipeline_succeeds=mr.merge_when_pipeline_succeeds,
    )


HOOK_FLAGS = (
    "push_events",
    "merge_requests_events",
    "pipeline_events",
    "note_events",
    "job_events",
)


def _target(hook: ProjectHook) -> HookTarget:
    events = frozenset(name for name in HOOK_FLAGS if getattr(hook, name))
    return HookTarget(url=hook.url, token=hook.token, events=events, id=hook.id)


async def send_test_push(
    sandbox: Sandbox, project: Project, hook: ProjectHook, user: User
) -> DeliveryRecord | None:
    """GitLab's test delivery of a push (``hooks/:hook_id/test/push_events``): the head of the
    default branch as if just pushed, sent at once whatever the hook subscribes to; None when
    the project has no commit."""
    branch = project.default_branch
    head = sandbox.repo(project).branch_sha(branch)
    if head is None:
        return None
    info = sandbox.repo(project).commit(head)
    payload = build_push_event(
        hook_project(sandbox, project),
        hook_user(user),
        HookPush(
            before=ZERO_SHA,
            after=head,
            ref=f"refs/heads/{branch}",
            ref_protected=sandbox.store.protection_for(project, branch) is not None,
            commits=(hook_commit(sandbox, project, info),),
        ),
    )
    return await sandbox.webhooks.deliver_now(_target(hook), "Push Hook", payload)


def _enqueue(
    sandbox: Sandbox, project: Project, event_name: str, payload: Mapping[str, Any]
) -> None:
    for hook in project.hooks:
        events = frozenset(
            name
            for name in (
                "push_events",
                "merge_requests_events",
                "pipeline_events",
                "note_events",
                "job_events",
            )
            if getattr(hook, name)
        )
        target = HookTarget(
            url=hook.url, token=hook.token, events=events, id=hook.id, health=hook.health
        )
        try:
            sandbox.webhooks.enqueue(target, event_name, payload)
        except RuntimeError:  # no running loop (seeding before the server starts)
            log.debug("webhook %s not queued: no event loop", event_name)


def merge_request_event(
    sandbox: Sandbox,
    project: Project,
    mr: MergeRequest,
    action: str,
    user: User | None,
    *,
    oldrev: str | None = None,
    previous: HookMergeRequest | None = None,
) -> None:
    """Queue a Merge Request Hook (``open``, ``update``, ``merge``, ``close``, ...)."""
    if not any(h.merge_requests_events for h in project.hooks):
        return
    payload = build_merge_request_event(
        hook_project(sandbox, project),
        hook_user(user),
        hook_merge_request(sandbox, project, mr),
        action,
        previous=previous,
        oldrev=oldrev,
    )
    _enqueue(sandbox, project, "Merge Request Hook", payload)


def pipeline_event(sandbox: Sandbox, project: Project, pipeline: Pipeline) -> None:
    """Queue a Pipeline Hook with the pipeline's current status."""
    if not any(h.pipeline_events for h in project.hooks):
        return
    run = pipeline.run
    user = sandbox.store.users.get(pipeline.user_id) if pipeline.user_id else None
    builds = [
        HookBuild(
            id=job.id,
            name=job.name,
            stage=job.stage,
            status=job.status.value,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            duration=job.duration,
            queued_duration=job.queued_duration,
            failure_reason=job.failure_reason,
            user=hook_user(user),
        )
        for job in run.jobs
        if not job.retried
    ]
    mr = (
        sandbox.store.merge_request(project.id, pipeline.merge_request_iid)
        if pipeline.merge_request_iid
        else None
    )
    try:
        commit = hook_commit(sandbox, project, sandbox.repo(project).commit(pipeline.sha))
    except Exception:
        commit = None
    payload = build_pipeline_event(
        hook_project(sandbox, project),
        hook_user(user),
        HookPipeline(
            id=pipeline.id,
            iid=pipeline.iid,
            ref=pipeline.ref,
            sha=pipeline.sha,
            status=pipeline.status,
            source=pipeline.source,
            before_sha=pipeline.before_sha,
            detailed_status=DETAILED_STATUS[run.status],
            created_at=pipeline.created_at,
            finished_at=run.finished_at,
            duration=run.duration,
            queued_duration=run.queued_duration,
            url=f"{sandbox.base_url}/{project.path_with_namespace}/-/pipelines/{pipeline.id}",
        ),
        commit=commit,
        merge_request=hook_merge_request(sandbox, project, mr) if mr else None,
        builds=builds,
    )
    _enqueue(sandbox, project, "Pipeline Hook", payload)


def note_event(
    sandbox: Sandbox, project: Project, mr: MergeRequest, note: Note, user: User
) -> None:
    """Queue a Note Hook for a comment on an MR."""
    if not any(h.note_events for h in project.hooks):
        return
    url = (
        f"{sandbox.base_url}/{project.path_with_namespace}/-/merge_requests/{mr.iid}#note_{note.id}"
    )
    payload = build_note_event(
        hook_project(sandbox, project),
        hook_user(user),
        HookNote(
            id=note.id,
            note=note.body,
            noteable_type="MergeRequest",
            author_id=note.author_id,
            project_id=project.id,
            created_at=note.created_at,
            updated_at=note.updated_at,
            noteable_id=mr.id,
            system=note.system,
            url=url,
            discussion_id=note.discussion_id,
            type=note.type,
            resolvable=note.resolvable,
            resolved=note.resolved,
        ),
        merge_request=hook_merge_request(sandbox, project, mr),
    )
    _enqueue(sandbox, project, "Note Hook", payload)


def push_event(
    sandbox: Sandbox,
    project: Project,
    user: User | None,
    branch: str,
    before: str | None,
    after: str | None,
    commits: list[CommitInfo],
) -> None:
    """Queue a Push Hook for one branch update."""
    if not any(h.push_events for h in project.hooks):
        return
    payload = build_push_event(
        hook_project(sandbox, project),
        hook_user(user),
        HookPush(
            before=before or ZERO_SHA,
            after=after or ZERO_SHA,
            ref=f"refs/heads/{branch}",
            ref_protected=sandbox.store.protection_for(project, branch) is not None,
            commits=tuple(hook_commit(sandbox, project, c) for c in commits),
        ),
    )
    _enqueue(sandbox, project, "Push Hook", payload)
