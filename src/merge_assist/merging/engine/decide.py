"""``decide``: the pure heart of the merge engine, per (project, target branch).

decide(state, observations, config, now) -> Decision(new state, actions, notes)

It never performs I/O and never raises: observations it cannot trust produce a ``Wait`` and a
note saying why, and the state is returned unchanged.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from merge_assist.merging.engine import batch, retries, single, train
from merge_assist.merging.engine.actions import Action, Wait
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.lifecycle import follow_cancels, sync_labels
from merge_assist.merging.engine.membership import reconcile
from merge_assist.merging.engine.observations import Observations
from merge_assist.merging.engine.readiness import assess
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.values import Frozen


class Decision(Frozen):
    """The new state to store and the actions to perform, in order."""

    state: TargetQueueState
    actions: tuple[Action, ...]
    notes: tuple[str, ...] = ()

    @property
    def idle(self) -> bool:
        """Only a ``Wait``: nothing to perform."""
        return all(isinstance(action, Wait) for action in self.actions)


def decide(
    state: TargetQueueState, observations: Observations, config: EngineConfig, now: datetime
) -> Decision:
    """Decide what to do next for one target branch. Pure and total."""
    problem = _untrustworthy(state, observations)
    if problem is not None:
        return _refuse(state, config, now, problem)
    try:
        return _decide(state, observations, config, now)
    except Exception as error:  # totality: a bug must not crash the worker loop
        return _refuse(state, config, now, f"internal error ({type(error).__name__}: {error})")


def _decide(
    state: TargetQueueState, observations: Observations, config: EngineConfig, now: datetime
) -> Decision:
    step = Step.begin(state, observations, config, now)
    retries.absorb_results(step)
    follow_cancels(step)
    reconcile(step)
    if step.target_sha is None:
        step.note(f"the head of `{step.target_branch}` is unknown: nothing is started")
    single.progress(step)
    batch.progress(step)
    train.progress(step)
    assess(step)
    if config.strategy == "train":
        train.extend(step)
    elif step.run is None and not any(a.active for a in step.attempts.values()):
        if config.strategy == "single":
            single.start(step)
        else:
            batch.start(step)
    sync_labels(step)
    actions: list[Action] = list(step.actions)
    if not actions:
        seconds = config.busy_poll_seconds if step.busy else config.poll_seconds
        actions.append(Wait(reason=_summary(step), until=now + timedelta(seconds=seconds)))
    return Decision(state=step.freeze(), actions=tuple(actions), notes=tuple(step.notes))


def _untrustworthy(state: TargetQueueState, observations: Observations) -> str | None:
    if observations.project_id != state.project_id:
        return f"observations are for project {observations.project_id}, not {state.project_id}"
    if observations.target_branch != state.target_branch:
        return (
            f"observations are for branch `{observations.target_branch}`, "
            f"not `{state.target_branch}`"
        )
    heads: dict[int, str] = {}
    for snapshot in observations.merge_requests:
        if heads.setdefault(snapshot.iid, snapshot.head_sha) != snapshot.head_sha:
            return f"two different snapshots of !{snapshot.iid}"
    return None


def _refuse(state: TargetQueueState, config: EngineConfig, now: datetime, reason: str) -> Decision:
    wait = Wait(reason=reason, until=now + timedelta(seconds=config.busy_poll_seconds))
    return Decision(state=state, actions=(wait,), notes=(reason,))


def _summary(step: Step) -> str:
    phases = Counter(mr.phase.value for mr in step.mrs.values())
    parts = [f"{count} {phase}" for phase, count in sorted(phases.items())]
    in_flight = [a.id for a in step.attempts.values() if a.active]
    if in_flight:
        parts.append("attempts in flight: " + ", ".join(map(str, in_flight)))
    return "; ".join(parts) or "the queue is empty"
