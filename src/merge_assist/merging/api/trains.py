"""What the API shows of a project's trains (``GET /api/projects/{id}/train``).

Read from the engine's stored state per target branch (``engine_states``): the cars head
first, the probes beside them, the groups of suspects waiting for a probe and the cleared
ones waiting for a car of their own, and the adaptive depth. Titles and links come from the
MR rows the listing shows; a pipeline's last seen status from the car's batch operation row.
A branch is shown when the project's strategy is ``train`` (a configured branch) or when its
stored train still holds something (work in flight finishes after a switch of strategy).

``train_out`` is pure (state and facts in, shape out); ``project_trains`` reads the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.principal import Principal
from merge_assist.merging.api import queries
from merge_assist.merging.engine.state import Attempt, TargetQueueState
from merge_assist.merging.schemas import (
    TrainAttemptOut,
    TrainCarOut,
    TrainGroupOut,
    TrainList,
    TrainMemberOut,
    TrainOut,
    TrainPipelineOut,
)
from merge_assist.projects import service as projects

log = logging.getLogger(__name__)

SHORT_SHA = 8  # as GitLab shortens them
TRAIN_STRATEGY = "train"

Group = tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class SeenPipeline:
    """The pipeline a batch operation row last saw for an attempt."""

    id: int
    status: str | None


@dataclass(frozen=True)
class TrainFacts:
    """What the view of one train needs besides the engine's state."""

    strategy: str
    train_depth: int
    members: Mapping[int, TrainMemberOut]  # the MRs with a row, by iid
    pipelines: Mapping[int, SeenPipeline]  # by attempt id
    project_web_url: str | None


def depth_now(depth: int, train_depth: int) -> int:
    """Cars that may run at once (``engine.train.depth``: 0 is "not started", the maximum)."""
    return max(1, min(depth or train_depth, train_depth))


def shows_train(state: TargetQueueState, strategy: str, configured: bool) -> bool:
    """Whether the branch has a train to show: the train strategy, or a train still busy."""
    return (strategy == TRAIN_STRATEGY and configured) or not state.train.idle


def attempt_ids(state: TargetQueueState) -> set[int]:
    """The attempts of the train (cars and probes)."""
    return {*state.train.cars, *state.train.probes}


def member_iids(state: TargetQueueState) -> set[int]:
    """Every MR the train names (cars, probes, suspects, cleared)."""
    attempts = {a.id: a for a in state.attempts}
    named = {m.iid for i in attempt_ids(state) if i in attempts for m in attempts[i].members}
    return named | state.train.suspected()


def train_out(state: TargetQueueState, facts: TrainFacts) -> TrainOut:
    """The API shape of one branch's train."""
    attempts = {a.id: a for a in state.attempts}
    cars = [attempts[i] for i in state.train.cars if i in attempts]
    probes = [attempts[i] for i in state.train.probes if i in attempts]
    return TrainOut(
        target_branch=state.target_branch,
        strategy=facts.strategy,
        depth=depth_now(state.train.depth, facts.train_depth),
        train_depth=facts.train_depth,
        cars=[
            TrainCarOut(
                **_attempt_out(state, car, facts).model_dump(),
                position=position,
                batch_mr_iid=car.batch_mr_iid,
                batch_mr_url=car.batch_mr_url,
            )
            for position, car in enumerate(cars, start=1)
        ],
        probes=[_attempt_out(state, probe, facts) for probe in probes],
        suspects=_groups((*state.train.suspects, *state.train.hopeful), facts),
        cleared=_groups(state.train.cleared, facts),
    )


def _member(iid: int, facts: TrainFacts) -> TrainMemberOut:
    return facts.members.get(iid) or TrainMemberOut(iid=iid, title=None, web_url=None)


def _groups(groups: Iterable[Group], facts: TrainFacts) -> list[TrainGroupOut]:
    return [TrainGroupOut(members=[_member(iid, facts) for iid, _ in group]) for group in groups]


def _short(sha: str | None) -> str | None:
    return sha[:SHORT_SHA] if sha else None


def _attempt_out(state: TargetQueueState, attempt: Attempt, facts: TrainFacts) -> TrainAttemptOut:
    return TrainAttemptOut(
        attempt_id=attempt.id,
        status="building" if attempt.status == "rebasing" else attempt.status,
        members=[_member(m.iid, facts) for m in attempt.members],
        pipeline=_pipeline(state, attempt, facts),
        base_sha=attempt.base_sha[:SHORT_SHA],
        tested_sha=_short(attempt.tested_sha),
    )


def _pipeline(
    state: TargetQueueState, attempt: Attempt, facts: TrainFacts
) -> TrainPipelineOut | None:
    seen = facts.pipelines.get(attempt.id)
    if seen is None and attempt.pipeline_ids:
        seen = SeenPipeline(attempt.pipeline_ids[-1], None)
    if seen is None:
        return None
    retries = next((r.retries for r in state.pipeline_retries if r.pipeline_id == seen.id), 0)
    base = facts.project_web_url
    return TrainPipelineOut(
        id=seen.id,
        status=seen.status,
        web_url=f"{base.rstrip('/')}/-/pipelines/{seen.id}" if base else None,
        retries=retries,
    )


def _parse(raw: str | None, project_id: int, branch: str) -> TargetQueueState | None:
    """A stored state (an empty one when none); None when it cannot be read (logged)."""
    if raw is None:
        return TargetQueueState.empty(project_id, branch)
    try:
        return TargetQueueState.from_json(raw)
    except ValidationError:
        log.warning(
            "The stored queue state of project %s, branch %r is unreadable", project_id, branch
        )
        return None


async def project_trains(session: AsyncSession, principal: Principal, project_id: int) -> TrainList:
    """The project's trains, one per target branch running one (configured branches first)."""
    project = await projects.get_visible_project(session, principal, project_id)
    config = await projects.get_config(session, project_id)
    stored = dict(await queries.engine_states(session, project_id))
    configured = list(config.target_branches)
    branches = [*configured, *sorted(set(stored) - set(configured))]
    shown = []
    for branch in branches:
        state = _parse(stored.get(branch), project_id, branch)
        if state is not None and shows_train(state, config.strategy, branch in configured):
            shown.append(state)
    iids = {iid for state in shown for iid in member_iids(state)}
    rows = await queries.merge_requests_by_iid(session, project_id, iids)
    members = {
        iid: TrainMemberOut(iid=iid, title=row.title, web_url=row.web_url)
        for iid, row in rows.items()
    }
    items = []
    for state in shown:
        operations = await queries.batch_operations_of(
            session, project_id, state.target_branch, attempt_ids(state)
        )
        pipelines = {
            attempt_id: SeenPipeline(row.pipeline_id, row.pipeline_status)
            for attempt_id, row in operations.items()
            if row.pipeline_id is not None
        }
        facts = TrainFacts(
            strategy=config.strategy,
            train_depth=config.train_depth,
            members=members,
            pipelines=pipelines,
            project_web_url=project.web_url,
        )
        items.append(train_out(state, facts))
    return TrainList(items=items)
