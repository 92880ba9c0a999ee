"""The filters and ordering of GitLab's merge request lists."""

from __future__ import annotations

from collections.abc import Iterable

from gitlab_sandbox.api.errors import ApiError
from gitlab_sandbox.api.params import Params
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import MergeRequest, User

STATES = ("opened", "closed", "locked", "merged", "all")
SCOPES = (
    "created_by_me",
    "created-by-me",
    "assigned_to_me",
    "assigned-to-me",
    "reviews_for_me",
    "all",
)
ORDERS = ("created_at", "updated_at", "title", "merged_at", "label_priority", "priority")


def _user_filter(value: str | None, ids: list[int]) -> bool | None:
    """``None``/``Any``/id semantics of ``assignee_id`` and ``reviewer_id`` (None: no filter)."""
    if value is None:
        return None
    if value.lower() == "none":
        return not ids
    if value.lower() == "any":
        return bool(ids)
    if not value.isdigit():
        raise ApiError(400, "assignee_id is invalid", key="error")
    return int(value) in ids


def _label_filter(labels: list[str] | None, mr: MergeRequest) -> bool:
    if labels is None:
        return True
    lowered = {name.lower() for name in mr.labels}
    if [name.lower() for name in labels] == ["none"]:
        return not mr.labels
    if [name.lower() for name in labels] == ["any"]:
        return bool(mr.labels)
    return all(name.lower() in lowered for name in labels)


def filter_merge_requests(
    sandbox: Sandbox, viewer: User, mrs: Iterable[MergeRequest], params: Params, default_scope: str
) -> list[MergeRequest]:
    """Apply GitLab's list filters, then order (``created_at`` descending by default)."""
    state = params.str("state") or "all"
    if state not in STATES:
        raise ApiError(400, "state does not have a valid value", key="error")
    scope = (params.str("scope") or default_scope).replace("-", "_")
    if scope not in {s.replace("-", "_") for s in SCOPES}:
        raise ApiError(400, "scope does not have a valid value", key="error")
    reviewer_username = params.str("reviewer_username")
    reviewer = sandbox.store.user_by_username(reviewer_username) if reviewer_username else None
    author_username = params.str("author_username")
    author = sandbox.store.user_by_username(author_username) if author_username else None
    labels = params.list("labels")
    not_labels = params.list("not[labels]") or []
    iids = params.int_list("iids")
    draft = params.str("draft") or {"yes": "true", "no": "false"}.get(params.str("wip") or "")
    search = (params.str("search") or "").lower()
    bounds = {
        name: params.datetime(name)
        for name in ("updated_after", "updated_before", "created_after", "created_before")
    }
    found = []
    for mr in mrs:
        checks = [
            state == "all" or mr.state == state,
            scope != "created_by_me" or mr.author_id == viewer.id,
            scope != "assigned_to_me" or viewer.id in mr.assignee_ids,
            scope != "reviews_for_me" or viewer.id in mr.reviewer_ids,
            _user_filter(params.str("assignee_id"), mr.assignee_ids) is not False,
            _user_filter(params.str("reviewer_id"), mr.reviewer_ids) is not False,
            reviewer_username is None or (reviewer is not None and reviewer.id in mr.reviewer_ids),
            params.int("author_id") in (None, mr.author_id),
            author_username is None or (author is not None and author.id == mr.author_id),
            _label_filter(labels, mr),
            not any(name.lower() in {n.lower() for n in mr.labels} for name in not_labels),
            params.str("target_branch") in (None, mr.target_branch),
            params.str("source_branch") in (None, mr.source_branch),
            iids is None or mr.iid in iids,
            draft is None or str(mr.draft).lower() == draft.lower(),
            not search or search in mr.title.lower() or search in mr.description.lower(),
            bounds["updated_after"] is None or mr.updated_at >= bounds["updated_after"],
            bounds["updated_before"] is None or mr.updated_at <= bounds["updated_before"],
            bounds["created_after"] is None or mr.created_at >= bounds["created_after"],
            bounds["created_before"] is None or mr.created_at <= bounds["created_before"],
        ]
        if all(checks):
            found.append(mr)
    return _ordered(found, params)


def _ordered(mrs: list[MergeRequest], params: Params) -> list[MergeRequest]:
    order_by = params.str("order_by") or "created_at"
    if order_by not in ORDERS:
        raise ApiError(400, "order_by does not have a valid value", key="error")
    sort = params.str("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise ApiError(400, "sort does not have a valid value", key="error")
    if order_by == "title":
        return sorted(mrs, key=lambda mr: (mr.title.lower(), mr.id), reverse=sort == "desc")
    if order_by == "updated_at":
        return sorted(mrs, key=lambda mr: (mr.updated_at, mr.id), reverse=sort == "desc")
    if order_by == "merged_at":
        return sorted(
            mrs, key=lambda mr: (mr.merged_at or mr.created_at, mr.id), reverse=sort == "desc"
        )
    return sorted(mrs, key=lambda mr: (mr.created_at, mr.id), reverse=sort == "desc")
