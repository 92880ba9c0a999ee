"""The database-backed loop of the merge engine, per project (called under its lease).

For each configured target branch: load the state → observe GitLab → add what only the
database knows (priorities, vault locks) and the previous step's results → ``decide`` →
perform the actions in order → store the new state with compare-and-swap, together with the
projection rows, history, audit entries, notices and log lines, in one transaction. Live
events leave after that commit. See docs/merge-engine.md, "Runner".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.gitlab.errors import GitLabError
from merge_assist.gitlab.git import GitCommandError
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.errors import NotFound
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.publish import attach
from merge_assist.kit.logging import redact
from merge_assist.kit.web import AppResources, ServiceKey
from merge_assist.merging.engine.actions import (
    Action,
    AddLabels,
    PostComment,
    RecordHistory,
    RemoveLabels,
    Wait,
)
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import Decision, decide
from merge_assist.merging.engine.observations import ActionResult, FileLock, Observations
from merge_assist.merging.engine.port import QueuePort
from merge_assist.merging.persistence import live, queue_metrics, records
from merge_assist.merging.persistence.advice import advised
from merge_assist.merging.persistence.describe import describe_action, describe_history
from merge_assist.merging.persistence.projection import (
    StepFacts,
    positions,
    priorities,
    project_step,
)
from merge_assist.merging.persistence.records import LogLine
from merge_assist.merging.persistence.state_store import (
    LostLease,
    StoredState,
    load_state,
    store_state,
)
from merge_assist.merging.persistence.stored_config import engine_config
from merge_assist.projects import service as projects
from merge_assist.projects.models import Project

log = logging.getLogger(__name__)

PortFailure = (GitLabError, GitCommandError)
"""What a port raises when GitLab or git failed: the step is logged and retried later."""

# Actions after which a fresh read of GitLab would show nothing new but the labels they set:
# the next step re-decides on the same observations with those labels (once, then it reads).
QUIET_ACTIONS = (AddLabels, RemoveLabels, PostComment, RecordHistory, Wait)

PortFor = Callable[[Project, str, EngineConfig], QueuePort]
LocksFor = Callable[[AsyncSession, int, Sequence[str]], Awaitable[Sequence[FileLock]]]
PendingResults = dict[tuple[int, str], tuple[int, tuple[ActionResult, ...]]]
VAULT_LOCKS: ServiceKey[LocksFor] = ServiceKey("vault lock reader of the merge gate")
"""The vault's check-outs among paths, as the engine reads them (provided at start)."""
PENDING_RESULTS: ServiceKey[PendingResults] = ServiceKey("merge queue's pending results")
"""Results of actions performed before a failed step, per queue, for this process's next try."""
StillOwner = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: when to look again (None: only on a wake-up), steps made, and whether
    another worker turned out to own the project (stop working on it)."""

    next_check_at: datetime | None
    steps: int
    lost_lease: bool
    observed_at_monotonic: float | None = None
    """``time.monotonic()`` when the last observation of every queue began (the earliest over
    the queues), if each queue ended waiting on a fresh observation: a wake-up received
    before it brings nothing the run did not see. None otherwise."""


@dataclass(frozen=True)
class _Queue:
    """One (project, target branch) being run."""

    res: AppResources
    project: Project
    branch: str
    config: EngineConfig
    port: QueuePort
    still_owner: StillOwner
    clock: Callable[[], datetime]
    audience: Collection[int]
    log_audience: Collection[int]

    @property
    def backoff(self) -> datetime:
        return self.clock() + timedelta(seconds=self.config.busy_poll_seconds)


async def run_project(
    res: AppResources,
    project_id: int,
    *,
    port_for: PortFor,
    still_owner: StillOwner,
    max_steps: int = 200,
    clock: Callable[[], datetime] = utcnow,
) -> RunOutcome:
    """Run every target branch of the project until it waits, fails, or ``max_steps`` steps
    (per branch) were made. A GitLab or git failure is written to the queue log and the step
    retried later; other exceptions leave the stored state as it was (the next run resumes
    from it)."""
    try:
        async with res.sessions() as session:
            project = await projects.get_project(session, project_id)
            config = engine_config(await projects.get_config(session, project_id))
            audience = await projects.audience(session, project)
            log_audience = await projects.log_audience(session, project)
    except NotFound:
        return RunOutcome(next_check_at=None, steps=0, lost_lease=False)
    if not project.is_active:
        return RunOutcome(next_check_at=None, steps=0, lost_lease=False)
    steps = 0
    wake: list[datetime] = []
    observed: list[float | None] = []
    for branch in config.target_branches:
        port = port_for(project, branch, config)
        queue = _Queue(
            res, project, branch, config, port, still_owner, clock, audience, log_audience
        )
        outcome = await _run_queue(queue, max_steps)
        steps += outcome.steps
        if outcome.lost_lease:
            return RunOutcome(next_check_at=None, steps=steps, lost_lease=True)
        if outcome.next_check_at is not None:
            wake.append(outcome.next_check_at)
        observed.append(outcome.observed_at_monotonic)
    seen = None if None in observed else min((t for t in observed if t is not None), default=None)
    return RunOutcome(min(wake, default=None), steps, lost_lease=False, observed_at_monotonic=seen)


async def _run_queue(queue: _Queue, max_steps: int) -> RunOutcome:
    async with queue.res.sessions() as session:
        stored = await load_state(session, queue.project.id, queue.branch)
    results = _take_pending(queue, stored.version)
    reuse: Observations | None = None
    observed_at = time.monotonic()
    for count in range(1, max_steps + 1):
        fresh, observed, reuse = reuse is None, reuse, None
        if observed is None:
            observed_at = time.monotonic()
            observed = await _observe(queue, stored, results)
            if observed is None:
                return RunOutcome(queue.backoff, count - 1, lost_lease=False)
        observations = await _complete(queue, observed, results)
        decision = decide(stored.state, observations, queue.config, queue.clock())
        performed: list[tuple[Action, ActionResult | None]] = []
        if not decision.idle:
            stop = await _act(queue, stored.version, decision, performed, count)
            if stop is not None:
                return stop
            results = tuple(result for _, result in performed if result is not None)
        version = await _store_step(queue, stored, decision, observations, performed)
        if version is None:
            return RunOutcome(None, count, lost_lease=True)
        stored = StoredState(decision.state, version)
        if decision.idle:
            return RunOutcome(_wake_at(decision), count, False, observed_at)
        if fresh and all(isinstance(action, QUIET_ACTIONS) for action in decision.actions):
            reuse = with_labels_applied(observed, decision.actions)
    return RunOutcome(queue.clock(), max_steps, lost_lease=False)  # more to do: come back now


async def _act(
    queue: _Queue,
    version: int,
    decision: Decision,
    performed: list[tuple[Action, ActionResult | None]],
    count: int,
) -> RunOutcome | None:
    """Perform the decision's actions (into ``performed``); the run's outcome when it must
    stop here: the lease was lost, or GitLab or git failed (logged, results kept)."""
    if not await queue.still_owner():
        return RunOutcome(None, count, lost_lease=True)
    try:
        failure = await _perform(queue, decision.actions, performed)
    except LostLease as lost:
        # What was done stays in GitLab; the new owner observes it and carries on.
        log.info("queue taken over by another worker mid-step: %s", lost)
        return RunOutcome(None, count, lost_lease=True)
    if failure is not None:
        results = tuple(result for _, result in performed if result is not None)
        await _step_failed(queue, version, results, failure)
        return RunOutcome(queue.backoff, count, lost_lease=False)
    return None


async def _store_step(
    queue: _Queue,
    stored: StoredState,
    decision: Decision,
    observations: Observations,
    performed: Sequence[tuple[Action, ActionResult | None]],
) -> int | None:
    """Store the step if this worker still owns the project: the new version, or None when
    the lease was lost (then nothing of the step is written)."""
    if not await queue.still_owner():
        return None
    try:
        return await _commit(queue, stored, decision, observations, performed)
    except LostLease as lost:
        log.info("queue taken over by another worker: %s", lost)
        return None


async def _observe(
    queue: _Queue, stored: StoredState, results: tuple[ActionResult, ...]
) -> Observations | None:
    """Read GitLab; None (logged, results kept for the retry) when that failed."""
    try:
        return await queue.port.observe(stored.state)
    except PortFailure as error:
        reason = f"reading GitLab failed: {_said(error)}"
        await _step_failed(queue, stored.version, results, reason)
        return None


def with_labels_applied(observed: Observations, actions: Sequence[Action]) -> Observations:
    """The observations as GitLab shows them after ``actions`` (only labels change)."""
    labels = {snapshot.iid: list(snapshot.labels) for snapshot in observed.merge_requests}
    for action in actions:
        if isinstance(action, AddLabels) and action.iid in labels:
            kept = [name for name in labels[action.iid] if name not in action.remove]
            labels[action.iid] = kept + [name for name in action.labels if name not in kept]
        elif isinstance(action, RemoveLabels) and action.iid in labels:
            labels[action.iid] = [name for name in labels[action.iid] if name not in action.labels]
    snapshots = tuple(
        snapshot.model_copy(update={"labels": tuple(labels[snapshot.iid])})
        for snapshot in observed.merge_requests
    )
    return observed.model_copy(update={"merge_requests": snapshots})


def _wake_at(decision: Decision) -> datetime | None:
    untils = [a.until for a in decision.actions if isinstance(a, Wait) and a.until is not None]
    return min(untils, default=None)


async def _complete(
    queue: _Queue, observed: Observations, results: tuple[ActionResult, ...]
) -> Observations:
    """Add the priorities, the vault locks and the previous step's results, under our
    project id (the port reads GitLab, which knows the project by GitLab's id)."""
    snapshots = observed.merge_requests
    locks_for = queue.res.service(VAULT_LOCKS)
    locks: tuple[FileLock, ...] = ()
    async with queue.res.sessions() as session:
        wanted = await priorities(session, queue.project.id, (s.iid for s in snapshots))
        paths = sorted({path for snapshot in snapshots for path in snapshot.files_changed})
        if paths:
            locks = tuple(await locks_for(session, queue.project.id, paths))
    snapshots = tuple(s.model_copy(update={"priority": wanted.get(s.iid, 0)}) for s in snapshots)
    return observed.model_copy(
        update={
            "project_id": queue.project.id,
            "merge_requests": snapshots,
            "locks": locks,
            "results": results,
        }
    )


async def _perform(
    queue: _Queue, actions: Sequence[Action], performed: list[tuple[Action, ActionResult | None]]
) -> str | None:
    """Perform the actions in order; at the first GitLab or git failure stop and say what
    failed (the results so far stay in ``performed``).

    Ownership is checked before each action, not only before the step: a worker paused in the
    middle of a step (its lease lapsed meanwhile) must not go on acting next to the new owner
    (``LostLease``)."""
    for action in actions:
        if isinstance(action, RecordHistory | Wait):
            continue  # history is written with the state; a Wait needs nothing
        if performed and not await queue.still_owner():
            raise LostLease(f"the lease was lost after {len(performed)} of the step's actions")
        try:
            result = await queue.port.perform(await advised(queue.res, queue.project.id, action))
        except PortFailure as error:
            return f"{describe_action(action, None).message} failed: {_said(error)}"
        performed.append((action, result))
    return None


def _said(error: Exception) -> str:
    """The failure's sentence for the queue log, without anything that looks like a secret
    (git's messages are redacted by its wrapper already; this is the second net)."""
    return redact(str(error)) or type(error).__name__


async def _commit(
    queue: _Queue,
    stored: StoredState,
    decision: Decision,
    observations: Observations,
    performed: Sequence[tuple[Action, ActionResult | None]],
) -> int:
    """Store the step (state first: a lost compare-and-swap writes nothing); returns the new
    version."""
    now = queue.clock()
    project_id = queue.project.id
    history = [a for a in decision.actions if isinstance(a, RecordHistory)]
    async with unit_of_work(queue.res.sessions) as session:
        attach(session, hub_of(queue.res))
        version = await store_state(session, decision.state, stored.version)
        entries = await records.insert_history(session, project_id, queue.branch, history, now)
        facts = StepFacts(
            project_id, queue.branch, stored.state, decision.state, observations, history, now
        )
        projection = await project_step(session, facts)
        lines = [describe_action(action, result) for action, result in performed]
        lines += [describe_history(entry) for entry in entries]
        lines += _note_lines(stored, decision, performed)
        snapshots = {s.iid: s for s in observations.merge_requests}
        lines += await records.notify_authors(
            session, queue.project.path_with_namespace, entries, snapshots
        )
        await records.audit_history(session, entries)
        rows = await records.append_logs(
            session, project_id, queue.branch, lines, now, queue.project.path_with_namespace
        )
        live.publish_step(session, project_id, queue.audience, projection, positions(facts.after))
        live.publish_logs(session, project_id, queue.log_audience, rows)
        counted = await queue_metrics.step_metrics(
            session,
            strategy=queue.config.strategy,
            entries=entries,
            performed=[action for action, _ in performed],
            now=now,
        )
    queue_metrics.observe(counted)  # committed
    return version


def _note_lines(
    stored: StoredState, decision: Decision, performed: Sequence[object]
) -> list[LogLine]:
    """The decision's notes worth a log line: those of a step that acted, and (as warnings)
    those of a refused step: ``decide`` returns the state unchanged only when it could not
    trust the observations or hit an internal error. Idle steps' notes repeat every poll."""
    if decision.state == stored.state:
        return [LogLine("warning", f"the engine refused to decide: {n}") for n in decision.notes]
    if performed:
        return [LogLine("info", note) for note in decision.notes]
    for note in decision.notes:
        log.debug(note, extra={"project_id": stored.state.project_id})
    return []


async def _step_failed(
    queue: _Queue, version: int, results: tuple[ActionResult, ...], reason: str
) -> None:
    """Log the failure (the state stays as it was) and keep the results for the retry."""
    pending = queue.res.find(PENDING_RESULTS)
    if pending is None:
        pending = {}
        queue.res.provide(PENDING_RESULTS, pending)
    pending[(queue.project.id, queue.branch)] = (version, results)
    retry = queue.config.busy_poll_seconds
    line = LogLine("warning", f"{reason}; the step is retried in {retry} s", None)
    async with unit_of_work(queue.res.sessions) as session:
        attach(session, hub_of(queue.res))
        rows = await records.append_logs(
            session,
            queue.project.id,
            queue.branch,
            [line],
            queue.clock(),
            queue.project.path_with_namespace,
        )
        live.publish_logs(session, queue.project.id, queue.log_audience, rows)


def _take_pending(queue: _Queue, version: int) -> tuple[ActionResult, ...]:
    """Results kept from a failed step over the same stored version (else: none)."""
    pending = queue.res.find(PENDING_RESULTS) or {}
    kept = pending.pop((queue.project.id, queue.branch), None)
    if kept is None or kept[0] != version:
        return ()
    return tuple(kept[1])
