"""HTTP wiring of the merge queue: MRs, priorities, batches, trains, logs and stats (``/api``).

Reading needs a project the caller may see (404 otherwise, whether or not it exists);
priorities need the admin or priority_manager role or the project's priority permission;
logs need the admin role or ``can_manage`` on the project. Rules live in ``listing``,
``priority``, ``trains``, ``queue_log`` and ``stats``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from merge_assist.auth.dependencies import CurrentUser
from merge_assist.kit.bus.wake import wake_after_commit
from merge_assist.kit.clock import utcnow
from merge_assist.kit.live.publish import LiveSession
from merge_assist.kit.web import Resources, Session
from merge_assist.merging.api import listing, priority, queue_log, stats, trains
from merge_assist.merging.persistence.models import QUEUE_STATES
from merge_assist.merging.schemas import (
    BatchList,
    LogLevel,
    LogList,
    MergeRequestDetail,
    MergeRequestList,
    MergeRequestOut,
    PriorityChange,
    ProjectActivity,
    QueueStats,
    TrainList,
)

router = APIRouter(prefix="/api", tags=["merge queue"])

MAX_ID = 2**31 - 1
MAX_PAGE = 500
ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="Our project id.")]
# PostgreSQL refuses NUL characters in text: refuse them here with a sentence instead.
NO_NUL = r"^[^\x00]*$"
MergeRequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="Our MR id (not GitLab's iid).")]


@router.get("/projects/{project_id}/mrs")
async def list_merge_requests(
    project_id: ProjectId,
    user: CurrentUser,
    session: Session,
    state: Annotated[
        list[str] | None,
        Query(
            max_length=len(QUEUE_STATES),
            description=f"Repeat or comma-separate: {', '.join(QUEUE_STATES)}.",
        ),
    ] = None,
    target_branch: Annotated[
        str | None, Query(min_length=1, max_length=255, pattern=NO_NUL)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MergeRequestList:
    """The project's MRs: waiting and ready ones in landing order (with ``position``) first,
    then the others, most recently changed first."""
    return await listing.list_merge_requests(
        session,
        user,
        project_id,
        states=listing.parse_states(state or ()),
        target_branch=target_branch,
        limit=limit,
        offset=offset,
    )


@router.get("/queue/activity")
async def queue_activity(user: CurrentUser, session: Session) -> list[ProjectActivity]:
    """The projects the caller may see with how many MRs each queue holds now, busiest first
    (the dashboard opens that one until the person chooses)."""
    return await listing.queue_activity(session, user)


@router.get("/mrs/{mr_id}")
async def get_merge_request(
    mr_id: MergeRequestId, user: CurrentUser, session: Session
) -> MergeRequestDetail:
    """One MR with its place in line and its history."""
    return await listing.merge_request_detail(session, user, mr_id)


@router.post("/mrs/{mr_id}/priority")
async def set_priority(
    mr_id: MergeRequestId,
    body: PriorityChange,
    user: CurrentUser,
    session: LiveSession,
    res: Resources,
) -> MergeRequestOut:
    """Set a queued MR's priority (0 normal, higher first); at most the batch size of a queue's
    MRs may carry a raised priority at once. Audited."""
    changed = await priority.set_priority(session, user, mr_id, body.priority)
    wake_after_commit(session, res, changed.project_id, "priority")  # it reads the new order
    return changed


@router.get("/projects/{project_id}/batches")
async def list_batches(
    project_id: ProjectId,
    user: CurrentUser,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only batches older than this id.")
    ] = None,
) -> BatchList:
    """The project's batch operations (and bisection probes), newest first."""
    return await listing.list_batches(session, user, project_id, before_id=before_id, limit=limit)


@router.get("/projects/{project_id}/train")
async def list_trains(project_id: ProjectId, user: CurrentUser, session: Session) -> TrainList:
    """The project's trains per target branch: cars head first (members, pipeline, retries),
    probes, suspects waiting and the depth; empty when the project runs no train."""
    return await trains.project_trains(session, user, project_id)


@router.get("/logs")
async def list_logs(
    user: CurrentUser,
    session: Session,
    project_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Required unless you are an admin.")
    ] = None,
    level: Annotated[LogLevel, Query(description="Minimum level.")] = "debug",
    q: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL, description="Case-insensitive text in the message."),
    ] = None,
    after_id: Annotated[
        int | None,
        Query(ge=0, le=MAX_ID, description="Only lines after this id (to tail the log)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=queue_log.MAX_LOG_PAGE)] = 200,
) -> LogList:
    """Queue log lines, oldest first: after ``after_id``, else the newest ``limit``."""
    return await queue_log.list_logs(
        session,
        user,
        project_id=project_id,
        level=level,
        contains=q,
        after_id=after_id,
        limit=limit,
    )


@router.get("/projects/{project_id}/stats")
async def queue_stats(
    project_id: ProjectId,
    user: CurrentUser,
    session: Session,
    hours: Annotated[int, Query(ge=1, le=stats.MAX_WINDOW_HOURS)] = 24,
) -> QueueStats:
    """Merges per UTC hour, time to merge (median, p95) and failures by reason."""
    return await stats.queue_stats(session, user, project_id, hours=hours, now=utcnow())
