"""Loading and storing the engine's state with compare-and-swap on ``engine_states.version``.

The version is the fencing token of the project lease: a worker stores only over the version
it loaded. A store that finds another version (or, for a first store, a row already there)
means another worker has taken the project over: :class:`LostLease` is raised and the caller's
transaction must roll back, so nothing of that step is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.clock import utcnow
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.persistence.models import EngineStateRow


class LostLease(Exception):
    """The stored state is not the one this worker loaded: another worker owns the queue."""


@dataclass(frozen=True)
class StoredState:
    """A state as loaded, with the version to compare against when storing (0: no row yet)."""

    state: TargetQueueState
    version: int


async def load_state(session: AsyncSession, project_id: int, target_branch: str) -> StoredState:
    """The stored state of one queue, or an empty one at version 0."""
    found = await session.execute(
        select(EngineStateRow.state_json, EngineStateRow.version).where(
            EngineStateRow.project_id == project_id,
            EngineStateRow.target_branch == target_branch,
        )
    )
    row = found.one_or_none()
    if row is None:
        return StoredState(TargetQueueState.empty(project_id, target_branch), 0)
    return StoredState(TargetQueueState.from_json(row.state_json), row.version)


async def store_state(session: AsyncSession, state: TargetQueueState, expected_version: int) -> int:
    """Store ``state`` over ``expected_version``; returns the new version.

    Raises :class:`LostLease` when the stored version is another one. Call it first in the
    step's transaction: on PostgreSQL the update waits for a concurrent writer's commit and
    then finds the version changed, so nothing else of the losing step is attempted.
    """
    new_version = expected_version + 1
    if expected_version == 0:
        session.add(
            EngineStateRow(
                project_id=state.project_id,
                target_branch=state.target_branch,
                state_json=state.to_json(),
                version=new_version,
                updated_at=utcnow(),
            )
        )
        try:
            await session.flush()
        except IntegrityError as error:
            raise LostLease("another worker stored this queue's first state") from error
        return new_version
    changed = await session.execute(
        update(EngineStateRow)
        .where(
            EngineStateRow.project_id == state.project_id,
            EngineStateRow.target_branch == state.target_branch,
            EngineStateRow.version == expected_version,
        )
        .values(state_json=state.to_json(), version=new_version, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        raise LostLease(f"the stored state is no longer version {expected_version}")
    return new_version
