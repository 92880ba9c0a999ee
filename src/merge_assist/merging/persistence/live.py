"""Live events of the queue (``mr.updated``, ``batch.updated``, ``log.appended``), queued on
the step's session and sent by the hub only after it commits (see ``kit.live.publish``)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.publish import publish_after_commit
from merge_assist.merging.persistence.models import QueueLogEntry
from merge_assist.merging.persistence.projection import Projection
from merge_assist.merging.schemas import BatchOut, LogOut, MergeRequestOut


def publish_step(
    session: AsyncSession,
    project_id: int,
    audience: Collection[int],
    projection: Projection,
    positions: Mapping[int, int],
) -> None:
    """One event per changed MR row and batch row, to the users who may see the project."""
    for row in projection.merge_requests:
        mr = MergeRequestOut.model_validate(row).model_copy(
            update={"position": positions.get(row.iid)}
        )
        _publish(session, "mr.updated", audience, project_id=project_id, mr=mr)
    for batch_row in projection.batches:
        batch = BatchOut.model_validate(batch_row)
        _publish(session, "batch.updated", audience, project_id=project_id, batch=batch)


def publish_logs(
    session: AsyncSession, project_id: int, audience: Collection[int], logs: Iterable[QueueLogEntry]
) -> None:
    """One ``log.appended`` per new log row, to ``audience``: the users who may read the
    project's log (``projects.log_audience``), not everyone who sees the project."""
    for row in logs:
        _publish(
            session, "log.appended", audience, project_id=project_id, log=LogOut.model_validate(row)
        )


def _publish(
    session: AsyncSession,
    kind: str,
    audience: Collection[int],
    *,
    project_id: int,
    **payload: MergeRequestOut | BatchOut | LogOut,
) -> None:
    if not audience:
        return
    data = {name: value.model_dump(mode="json") for name, value in payload.items()}
    publish_after_commit(
        session, LiveEvent.for_users(kind, audience, project_id=project_id, **data)
    )
