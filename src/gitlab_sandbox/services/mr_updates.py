"""``PUT /merge_requests/:iid``: title, labels, people, target, close/reopen."""

from __future__ import annotations

import asyncio
from typing import Any

from gitlab_sandbox.api.params import Params
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events
from gitlab_sandbox.services.events import hook_merge_request
from gitlab_sandbox.services.merge_requests import (
    MergeRequestError,
    ensure_labels,
    refresh_facts,
    start_checking,
)
from gitlab_sandbox.store import MergeRequest, Project, User

_EDITABLE = (
    "title",
    "description",
    "labels",
    "add_labels",
    "remove_labels",
    "assignee_id",
    "assignee_ids",
    "reviewer_ids",
    "state_event",
    "target_branch",
    "remove_source_branch",
    "squash",
    "discussion_locked",
    "milestone_id",
    "allow_collaboration",
)


async def update_merge_request(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User, params: Params
) -> None:
    """Apply an MR update as GitLab does; hooks ``update``/``close``/``reopen``."""
    if not any(name in params for name in _EDITABLE):
        raise MergeRequestError(400, "At least one of the parameters is required")
    previous = hook_merge_request(sandbox, project, mr)
    _apply_text(mr, params)
    _apply_labels(sandbox, project, mr, params)
    _apply_people(sandbox, mr, params)
    await _apply_target(sandbox, project, mr, params)
    if params.bool("remove_source_branch") is not None:
        mr.force_remove_source_branch = bool(params.bool("remove_source_branch"))
        mr.should_remove_source_branch = mr.force_remove_source_branch
    if params.bool("squash") is not None:
        mr.squash = bool(params.bool("squash"))
    action = await _apply_state(sandbox, project, mr, user, params.str("state_event"))
    mr.updated_at = sandbox.now()
    events.merge_request_event(sandbox, project, mr, action, user, previous=previous)


def _apply_text(mr: MergeRequest, params: Params) -> None:
    title = params.str("title")
    if title is not None:
        if not title.strip():
            raise MergeRequestError(400, {"title": ["can't be blank"]})
        mr.title = title
    if "description" in params:
        mr.description = params.str("description") or ""


def _apply_labels(sandbox: Sandbox, project: Project, mr: MergeRequest, params: Params) -> None:
    labels = params.list("labels")
    if labels is not None:
        mr.labels = list(dict.fromkeys(labels))
    for name in params.list("add_labels") or []:
        if name.lower() not in {n.lower() for n in mr.labels}:
            mr.labels.append(name)
    removed = {name.lower() for name in params.list("remove_labels") or []}
    mr.labels = [name for name in mr.labels if name.lower() not in removed]
    ensure_labels(sandbox, project, mr.labels)


def _apply_people(sandbox: Sandbox, mr: MergeRequest, params: Params) -> None:
    users = sandbox.store.users
    if "assignee_ids" in params:
        mr.assignee_ids = [uid for uid in params.int_list("assignee_ids") or [] if uid in users]
    elif "assignee_id" in params:
        assignee = params.int("assignee_id") or 0
        mr.assignee_ids = [assignee] if assignee in users else []
    if "reviewer_ids" in params:
        mr.reviewer_ids = [uid for uid in params.int_list("reviewer_ids") or [] if uid in users]


async def _apply_target(
    sandbox: Sandbox, project: Project, mr: MergeRequest, params: Params
) -> None:
    target = params.str("target_branch")
    if target is None or target == mr.target_branch:
        return
    repo = sandbox.repo(project)
    if await asyncio.to_thread(repo.branch_sha, target) is None:
        raise MergeRequestError(400, {"target_branch": ["is invalid"]})
    if target == mr.source_branch:
        raise MergeRequestError(
            400, {"branch_conflict": ["You can't use same project/branch for source and target"]}
        )
    mr.target_branch = target
    mr.facts = None
    start_checking(sandbox, mr)
    await refresh_facts(sandbox, project, mr)


async def _apply_state(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User, event: str | None
) -> str:
    if event is None:
        return "update"
    if event not in ("close", "reopen"):
        raise MergeRequestError(400, "state_event does not have a valid value")
    if event == "close" and mr.state == "opened":
        mr.state, mr.closed_at, mr.closed_by_id = "closed", sandbox.now(), user.id
        mr.merge_when_pipeline_succeeds = False
        return "close"
    if event == "reopen" and mr.state == "closed":
        duplicate = _open_duplicate(sandbox, project, mr)
        if duplicate is not None:
            raise MergeRequestError(
                409,
                [f"Another open merge request already exists for this source branch: !{duplicate}"],
            )
        mr.state, mr.closed_at, mr.closed_by_id = "opened", None, None
        mr.facts = None
        start_checking(sandbox, mr)
        await refresh_facts(sandbox, project, mr)
        return "reopen"
    return "update"


def _open_duplicate(sandbox: Sandbox, project: Project, mr: MergeRequest) -> Any:
    for other in sandbox.store.open_merge_requests(project.id):
        if other.id != mr.id and (other.source_branch, other.target_branch) == (
            mr.source_branch,
            mr.target_branch,
        ):
            return other.iid
    return None
