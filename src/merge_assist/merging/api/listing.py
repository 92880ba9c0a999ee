"""What the API shows of a queue: MRs in landing order, one MR with its history, batches.

Reads only, for callers who may see the project (``projects.service.get_visible_project``);
a project or MR the caller cannot see is answered exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.principal import Principal
from merge_assist.kit.errors import NotFound, Unprocessable
from merge_assist.merging.api import queries
from merge_assist.merging.persistence.models import QUEUE_STATES, MergeRequestRecord
from merge_assist.merging.schemas import (
    BatchList,
    BatchOut,
    HistoryOut,
    MergeRequestDetail,
    MergeRequestList,
    MergeRequestOut,
    ProjectActivity,
)
from merge_assist.projects import service as projects

# MRs with a place in the landing order (``position``).
LINE_STATES = ("waiting", "ready")
_NOT_RECOGNISED = datetime.max.replace(tzinfo=UTC)


def parse_states(values: Iterable[str]) -> frozenset[str] | None:
    """The queue states asked for (repeated and/or comma-separated); None: every state.

    Unknown names are refused with a sentence listing the valid ones (422).
    """
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(QUEUE_STATES))
    if unknown:
        raise Unprocessable(
            f"Unknown state {', '.join(repr(name) for name in unknown)}; the states are "
            f"{', '.join(QUEUE_STATES)}."
        )
    return frozenset(wanted) or None


def queue_key(mr: MergeRequestRecord) -> tuple[int, datetime, int]:
    """The landing order of ``merging.engine.ordering.queue_order``, for stored rows.

    Priority descending, then recognised earliest first, then iid; a row the runner has not
    stamped with ``recognised_at`` yet goes last among its priority.
    """
    return (-mr.priority, mr.recognised_at or _NOT_RECOGNISED, mr.iid)


def queue_positions(rows: Iterable[MergeRequestRecord]) -> dict[int, int]:
    """1-based places in the landing order of each target branch, by our MR id."""
    positions: dict[int, int] = {}
    per_branch: dict[str, int] = {}
    for mr in sorted((r for r in rows if r.queue_state in LINE_STATES), key=queue_key):
        per_branch[mr.target_branch] = per_branch.get(mr.target_branch, 0) + 1
        positions[mr.id] = per_branch[mr.target_branch]
    return positions


def merge_request_out(mr: MergeRequestRecord, position: int | None) -> MergeRequestOut:
    """The API shape of a stored MR."""
    return MergeRequestOut.model_validate(mr).model_copy(update={"position": position})


async def list_merge_requests(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    states: frozenset[str] | None,
    target_branch: str | None,
    limit: int,
    offset: int,
) -> MergeRequestList:
    """The project's MRs: waiting/ready in landing order first, then the rest newest first."""
    await projects.get_visible_project(session, principal, project_id)
    config = await projects.get_config(session, project_id)
    wanted = states or frozenset(QUEUE_STATES)
    in_line = await queries.rows_in_states(session, project_id, LINE_STATES)
    positions = queue_positions(in_line)
    line = sorted(
        (
            mr
            for mr in in_line
            if mr.queue_state in wanted
            and (target_branch is None or mr.target_branch == target_branch)
        ),
        key=queue_key,
    )
    head = line[offset : offset + limit]
    rest_states = [state for state in QUEUE_STATES if state in wanted and state not in LINE_STATES]
    rest: list[MergeRequestRecord] = []
    rest_total = 0
    if rest_states:
        found, rest_total = await queries.page_in_states(
            session,
            project_id,
            rest_states,
            target_branch=target_branch,
            offset=max(0, offset - len(line)),
            limit=limit - len(head),
        )
        rest = list(found)
    return MergeRequestList(
        items=[merge_request_out(mr, positions.get(mr.id)) for mr in head]
        + [merge_request_out(mr, None) for mr in rest],
        total=len(line) + rest_total,
        target_branches=list(config.target_branches),
        can_set_priority=await projects.can_set_priority(session, principal, project_id),
        priority_cap=config.batch_size,
    )


async def visible_merge_request(
    session: AsyncSession, principal: Principal, mr_id: int
) -> MergeRequestRecord:
    """The MR ``mr_id`` if the caller may see its project; NotFound otherwise."""
    mr = await queries.merge_request_by_id(session, mr_id)
    if mr is not None:
        try:
            await projects.get_visible_project(session, principal, mr.project_id)
        except NotFound:
            mr = None
    if mr is None:
        raise NotFound(f"There is no merge request with id {mr_id}.")
    return mr


async def position_of(session: AsyncSession, mr: MergeRequestRecord) -> int | None:
    """The MR's place in its branch's landing order, or None when it is not in line."""
    if mr.queue_state not in LINE_STATES:
        return None
    rows = await queries.rows_in_states(
        session, mr.project_id, LINE_STATES, target_branch=mr.target_branch
    )
    return queue_positions(rows).get(mr.id)


async def merge_request_detail(
    session: AsyncSession, principal: Principal, mr_id: int
) -> MergeRequestDetail:
    """One MR, its place in line and the history entries naming it."""
    mr = await visible_merge_request(session, principal, mr_id)
    history = await queries.history_of_mr(session, mr.project_id, mr.target_branch, mr.iid)
    out = merge_request_out(mr, await position_of(session, mr))
    return MergeRequestDetail(
        **out.model_dump(), history=[HistoryOut.model_validate(entry) for entry in history]
    )


async def list_batches(
    session: AsyncSession,
    principal: Principal,
    project_id: int,
    *,
    before_id: int | None,
    limit: int,
) -> BatchList:
    """The project's batch operations, newest first (page on with ``before_id``)."""
    await projects.get_visible_project(session, principal, project_id)
    rows = await queries.batches_page(session, project_id, before_id=before_id, limit=limit)
    return BatchList(items=[BatchOut.model_validate(row) for row in rows])


async def queue_activity(session: AsyncSession, principal: Principal) -> list[ProjectActivity]:
    """Every project ``principal`` may see, busiest queue first (then the latest change)."""
    visible = await projects.visible_projects(session, principal)
    found = await queries.activity_by_project(session, [project.id for project in visible])
    activity = [
        ProjectActivity(project_id=project.id, queued=count, last_activity_at=last)
        for project in visible
        for count, last in [found.get(project.id, (0, None))]
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        activity, key=lambda item: (item.queued, item.last_activity_at or oldest), reverse=True
    )
