"""Rows for the queue API's tests: projects as onboarding leaves them, and the runner's output
(``merge_requests``, ``batch_operations``, ``merge_history``, ``logs``) inserted directly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth.models import User
from merge_assist.kit.db import unit_of_work
from merge_assist.merging.persistence.models import (
    BatchOperation,
    MergeHistoryEntry,
    MergeRequestRecord,
    QueueLogEntry,
)
from merge_assist.projects import permissions
from merge_assist.projects.config import default_config
from merge_assist.projects.models import Project, ProjectConfigRow
from merge_assist.projects.schemas import PermissionGrant
from merge_assist.projects.service import Actor

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_gitlab_ids = itertools.count(1000)


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


async def add_project(
    sessions: Sessions,
    path: str = "acme/webapp",
    *,
    branches: tuple[str, ...] = ("main",),
    batch_size: int = 5,
    active: bool = True,
    web_url: str | None = None,
    **settings: Any,
) -> int:
    """A project with its configuration row, as onboarding stores them (``settings``: other
    configuration values, e.g. ``strategy="train"``)."""
    config = default_config(branches[0]).model_copy(
        update={"target_branches": branches, "batch_size": batch_size, **settings}
    )
    async with unit_of_work(sessions) as session:
        project = Project(
            gitlab_project_id=next(_gitlab_ids),
            path_with_namespace=path,
            name=path.rsplit("/", 1)[-1],
            default_branch=branches[0],
            is_active=active,
            web_url=web_url,
        )
        session.add(project)
        await session.flush()
        values = config.model_dump()
        values["target_branches"] = list(config.target_branches)
        session.add(ProjectConfigRow(project_id=project.id, updated_by="test", **values))
    return project.id


async def add_mr(
    sessions: Sessions,
    project_id: int,
    iid: int,
    *,
    state: str = "waiting",
    priority: int = 0,
    recognised_at: datetime | None = None,
    target_branch: str = "main",
    unrecognised: bool = False,
    **fields: Any,
) -> int:
    """One ``merge_requests`` row as the runner writes it; returns our id.

    ``recognised_at`` defaults to ``at(iid)``; ``unrecognised`` leaves it empty.
    """
    row = MergeRequestRecord(
        project_id=project_id,
        iid=iid,
        target_branch=target_branch,
        source_branch=f"feature/{iid}",
        title=f"Change {iid}",
        author_username="alice",
        queue_state=state,
        priority=priority,
        recognised_at=None if unrecognised else (recognised_at or at(iid)),
        reasons=fields.pop("reasons", []),
        **fields,
    )
    await add(sessions, row)
    return row.id


async def add(sessions: Sessions, *rows: Any) -> None:
    """Insert rows (batches, history, logs, ...) in one transaction."""
    async with unit_of_work(sessions) as session:
        session.add_all(rows)


def batch(project_id: int, attempt_id: int, **fields: Any) -> BatchOperation:
    """A ``batch_operations`` row."""
    values: dict[str, Any] = {
        "target_branch": "main",
        "status": "landed",
        "member_iids": [1, 2],
        "started_at": at(attempt_id),
    }
    return BatchOperation(project_id=project_id, attempt_id=attempt_id, **{**values, **fields})


def history(
    project_id: int, event: str, iids: list[int], key: str, **fields: Any
) -> MergeHistoryEntry:
    """A ``merge_history`` row."""
    values: dict[str, Any] = {"target_branch": "main", "details": {}, "created_at": T0}
    return MergeHistoryEntry(
        project_id=project_id,
        event=event,
        iids=iids,
        record_key=f"{project_id}:main:{key}",
        **{**values, **fields},
    )


def log(project_id: int | None, level: str, message: str, **fields: Any) -> QueueLogEntry:
    """A ``logs`` row."""
    return QueueLogEntry(project_id=project_id, level=level, message=message, details={}, **fields)


async def user_id(sessions: Sessions, username: str) -> int:
    """The id of the user ``username``."""
    async with sessions() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


async def grant(sessions: Sessions, project_id: int, username: str, **flags: bool) -> None:
    """Set a user's project permissions through the projects service."""
    who = await user_id(sessions, username)
    async with unit_of_work(sessions) as session:
        await permissions.set_permission(
            session, Actor(None, "test"), project_id, PermissionGrant(user_id=who, **flags)
        )


async def mr_row(sessions: Sessions, mr_id: int) -> MergeRequestRecord:
    """The stored MR row, fresh."""
    async with sessions() as session:
        row = await session.get(MergeRequestRecord, mr_id)
    assert row is not None
    return row
