"""Changing an MR's priority: who may, when, the cap, and the records it leaves (never commits).

Admins, ``priority_manager`` users and users holding ``can_set_priority`` on the project may
change the priority of an MR that is still queued (waiting, ready or not ready); once it is
being merged, the order no longer matters. At most ``batch_size`` MRs of one queue (project
and target branch) may carry a raised priority at once (``ordering.check_priority_change``).
A change writes the audit entry (old and new priority), a ``priority_changed`` history entry,
a log line and an ``mr.updated`` live event, all in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit.service import record
from merge_assist.auth.principal import Principal
from merge_assist.kit.errors import Conflict, Forbidden
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.publish import publish_after_commit
from merge_assist.merging.api import queries
from merge_assist.merging.api.listing import merge_request_out, position_of, visible_merge_request
from merge_assist.merging.engine.ordering import check_priority_change
from merge_assist.merging.persistence.models import (
    MergeHistoryEntry,
    MergeRequestRecord,
    QueueLogEntry,
)
from merge_assist.merging.schemas import LogOut, MergeRequestOut
from merge_assist.projects import service as projects

# Queued MRs whose priority may change; the order of MRs already being merged is settled.
CHANGEABLE_STATES = ("waiting", "ready", "not_ready")
# MRs that belong to a queue (they count towards the cap while they carry a raised priority).
QUEUE_MEMBER_STATES = ("waiting", "ready", "not_ready", "merging", "in_batch")
HISTORY_EVENT = "priority_changed"
AUDIT_ACTION = "merge_request.priority.set"

_STATE_WORDS = {
    "merging": "being merged already",
    "in_batch": "in a batch being tested already",
    "merged": "merged already",
    "rejected": "rejected (the author has to assign the bot again)",
    "removed": "no longer in the queue",
}


async def set_priority(
    session: AsyncSession, principal: Principal, mr_id: int, priority: int
) -> MergeRequestOut:
    """Set the MR's priority (0 is normal; higher lands first) and record who did it.

    404 for an MR the caller cannot see; 403 without the right; 409 when the MR is not queued
    any more or the cap is reached. Setting the priority it already has changes nothing.
    """
    mr = await visible_merge_request(session, principal, mr_id)
    if not await projects.can_set_priority(session, principal, mr.project_id):
        raise Forbidden(
            "Setting priorities needs the admin or priority_manager role, or the priority "
            "permission on this project."
        )
    # Held until the commit: concurrent changes of this queue run one after the other.
    queue = await queries.lock_queue(session, mr.project_id, mr.target_branch, QUEUE_MEMBER_STATES)
    await session.refresh(mr)
    if mr.queue_state not in CHANGEABLE_STATES:
        state = _STATE_WORDS.get(mr.queue_state, mr.queue_state)
        raise Conflict(
            f"The priority of !{mr.iid} cannot change: it is {state}. Only merge requests "
            "waiting in the queue (waiting, ready or not ready) can be reordered."
        )
    old = mr.priority
    if priority == old:
        return merge_request_out(mr, await position_of(session, mr))
    config = await projects.get_config(session, mr.project_id)
    check = check_priority_change(
        {row.iid: row.priority for row in queue}, mr.iid, priority, config.batch_size
    )
    if not check.allowed:
        raise Conflict(f"The priority of !{mr.iid} cannot be raised: {check.reason}.")
    mr.priority = priority
    await session.flush()
    line = await _record_change(session, principal, mr, old)
    out = merge_request_out(mr, await position_of(session, mr))
    await _announce(session, mr, out, line)
    return out


async def _record_change(
    session: AsyncSession, principal: Principal, mr: MergeRequestRecord, old: int
) -> QueueLogEntry:
    """The audit entry, the history entry and the log line (returned) of one change."""
    change = {"old_priority": old, "new_priority": mr.priority}
    entry = await record(
        session,
        actor_id=principal.id,
        actor_name=principal.username,
        action=AUDIT_ACTION,
        success=True,
        target_type="merge_request",
        target_id=mr.id,
        details={
            "project_id": mr.project_id,
            "target_branch": mr.target_branch,
            "iid": mr.iid,
            **change,
        },
    )
    session.add(
        MergeHistoryEntry(
            project_id=mr.project_id,
            target_branch=mr.target_branch,
            event=HISTORY_EVENT,
            iids=[mr.iid],
            # The audit entry's id is unique, so the key is too.
            record_key=f"{mr.project_id}:{mr.target_branch}:priority:{mr.iid}:{entry.id}",
            details={**change, "by": principal.username},
        )
    )
    line = QueueLogEntry(
        project_id=mr.project_id,
        target_branch=mr.target_branch,
        level="info",
        message=(
            f"{principal.username} changed the priority of !{mr.iid} from {old} to {mr.priority}"
        ),
        iid=mr.iid,
        details={**change, "by": principal.username},
    )
    session.add(line)
    await session.flush()
    return line


async def _announce(
    session: AsyncSession, mr: MergeRequestRecord, out: MergeRequestOut, line: QueueLogEntry
) -> None:
    """``mr.updated`` for everyone who may see the project and ``log.appended`` for those who
    may read its log, after commit."""
    project = await projects.get_project(session, mr.project_id)
    audience = await projects.audience(session, project)
    log_audience = await projects.log_audience(session, project)
    publish_after_commit(
        session,
        LiveEvent.for_users(
            "mr.updated", audience, project_id=mr.project_id, mr=out.model_dump(mode="json")
        ),
    )
    publish_after_commit(
        session,
        LiveEvent.for_users(
            "log.appended",
            log_audience,
            project_id=mr.project_id,
            log=LogOut.model_validate(line).model_dump(mode="json"),
        ),
    )
