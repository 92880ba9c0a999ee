"""What a caller hands the client: the grouped arguments of its larger calls (pure; no I/O).

Each one renders itself as the query parameters or JSON body GitLab expects; ``None`` means
"not sent" (the transport drops it), so an empty object sends only GitLab's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal


def _csv(values: Sequence[str] | None) -> str | None:
    return None if values is None else ",".join(values)


def _ids(values: Sequence[int] | None) -> list[int] | None:
    return None if values is None else list(values)


@dataclass(frozen=True, kw_only=True)
class MergeRequestQuery:
    """Which merge requests ``list_merge_requests`` returns, and in what order.

    GitLab filters assignees and reviewers separately: to find merge requests where the bot is
    either, list once with ``assignee_id`` and once with ``reviewer_id``.
    ``with_merge_status_recheck`` asks GitLab to recheck stale mergeability in the background
    (the single-MR read does that by itself; a list does not).
    """

    state: Literal["opened", "closed", "locked", "merged", "all"] = "opened"
    target_branch: str | None = None
    source_branch: str | None = None
    assignee_id: int | None = None
    reviewer_id: int | None = None
    labels: Sequence[str] | None = None
    iids: Sequence[int] | None = None
    updated_after: datetime | None = None
    order_by: Literal["created_at", "updated_at"] = "updated_at"
    sort: Literal["asc", "desc"] = "asc"
    with_merge_status_recheck: bool | None = None

    def as_params(self) -> dict[str, Any]:
        """The query string of ``GET /projects/:id/merge_requests``."""
        return {
            "state": self.state,
            "target_branch": self.target_branch,
            "source_branch": self.source_branch,
            "assignee_id": self.assignee_id,
            "reviewer_id": self.reviewer_id,
            "labels": _csv(self.labels),
            "iids[]": None if self.iids is None else [int(iid) for iid in self.iids],
            "updated_after": self.updated_after,
            "order_by": self.order_by,
            "sort": self.sort,
            "with_merge_status_recheck": self.with_merge_status_recheck,
        }


@dataclass(frozen=True, kw_only=True)
class MergeRequestChanges:
    """What ``update_merge_request`` changes; every field *sets* state (safe to resend).

    An empty ``assignee_ids`` or ``reviewer_ids`` removes them all.
    """

    add_labels: Sequence[str] | None = None
    remove_labels: Sequence[str] | None = None
    assignee_ids: Sequence[int] | None = None
    reviewer_ids: Sequence[int] | None = None
    state_event: Literal["close", "reopen"] | None = None
    title: str | None = None
    description: str | None = None
    target_branch: str | None = None

    def as_body(self) -> dict[str, Any]:
        """The JSON body of ``PUT /projects/:id/merge_requests/:iid``."""
        return {
            "add_labels": _csv(self.add_labels),
            "remove_labels": _csv(self.remove_labels),
            "assignee_ids": _ids(self.assignee_ids),
            "reviewer_ids": _ids(self.reviewer_ids),
            "state_event": self.state_event,
            "title": self.title,
            "description": self.description,
            "target_branch": self.target_branch,
        }


@dataclass(frozen=True, kw_only=True)
class NewMergeRequest:
    """A merge request to open with ``create_merge_request``."""

    source_branch: str
    target_branch: str
    title: str
    description: str | None = None
    assignee_ids: Sequence[int] | None = None
    reviewer_ids: Sequence[int] | None = None
    labels: Sequence[str] | None = None
    remove_source_branch: bool | None = None
    squash: bool | None = None

    def as_body(self) -> dict[str, Any]:
        """The JSON body of ``POST /projects/:id/merge_requests``."""
        return {
            "source_branch": self.source_branch,
            "target_branch": self.target_branch,
            "title": self.title,
            "description": self.description,
            "assignee_ids": _ids(self.assignee_ids),
            "reviewer_ids": _ids(self.reviewer_ids),
            "labels": _csv(self.labels),
            "remove_source_branch": self.remove_source_branch,
            "squash": self.squash,
        }


@dataclass(frozen=True)
class GitAuthor:
    """Who a commit made through the API is recorded as (``author_name``/``author_email``)."""

    name: str
    email: str
