"""The working copy of one decision: the state being changed and the actions collected.

``decide`` is pure from the outside; inside, one ``Step`` is filled in by the rules and
frozen back into a ``TargetQueueState`` at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from merge_assist.merging.engine.actions import Action, PostComment, RecordHistory
from merge_assist.merging.engine.comments import render, with_marker
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import (
    ActionResult,
    MergeRequestSnapshot,
    Observations,
    Pipeline,
    pipelines_by_sha,
)
from merge_assist.merging.engine.state import (
    MAX_REMEMBERED_COMMENTS,
    MAX_REMEMBERED_RETRIES,
    Attempt,
    BatchRun,
    PendingCancel,
    PipelineRetry,
    QueuedMergeRequest,
    TargetQueueState,
    Train,
)

ResultT = TypeVar("ResultT")


@dataclass
class Step:
    """One decision in progress."""

    config: EngineConfig
    now: datetime
    observations: Observations
    project_id: int
    target_branch: str
    target_sha: str | None
    mrs: dict[int, QueuedMergeRequest]
    attempts: dict[int, Attempt]
    run: BatchRun | None
    train: Train
    rejected: list[int]
    next_id: int
    steps: int
    snapshots: dict[int, MergeRequestSnapshot]
    pipelines: dict[str, Pipeline]
    retries: dict[int, PipelineRetry] = field(default_factory=dict)  # by pipeline id
    pending_cancels: list[PendingCancel] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    busy: bool = False  # waiting on something we started (pipeline, rebase, landing)

    @classmethod
    def begin(
        cls,
        state: TargetQueueState,
        observations: Observations,
        config: EngineConfig,
        now: datetime,
    ) -> Step:
        """Open a step on ``state`` with ``observations``."""
        snapshots: dict[int, MergeRequestSnapshot] = {}
        for snapshot in observations.merge_requests:
            snapshots.setdefault(snapshot.iid, snapshot)
        return cls(
            config=config,
            now=now,
            observations=observations,
            project_id=state.project_id,
            target_branch=state.target_branch,
            target_sha=observations.target_sha,
            mrs={mr.iid: mr for mr in state.merge_requests},
            attempts={attempt.id: attempt for attempt in state.attempts},
            run=state.batch_run,
            train=state.train,
            rejected=list(state.rejected),
            next_id=state.next_id,
            steps=state.steps + 1,
            snapshots=snapshots,
            pipelines=pipelines_by_sha(observations.pipelines, observations.merge_requests),
            retries={retry.pipeline_id: retry for retry in state.pipeline_retries},
            pending_cancels=list(state.pending_cancels),
        )

    def freeze(self) -> TargetQueueState:
        """The new state."""
        return TargetQueueState(
            project_id=self.project_id,
            target_branch=self.target_branch,
            target_sha=self.target_sha,
            merge_requests=tuple(self.mrs.values()),
            attempts=tuple(a for a in self.attempts.values() if a.active),
            batch_run=self.run,
            train=self.train,
            rejected=tuple(dict.fromkeys(self.rejected)),
            pipeline_retries=self._retries_kept(),
            pending_cancels=tuple(self.pending_cancels),
            next_id=self.next_id,
            steps=self.steps,
        )

    def _retries_kept(self) -> tuple[PipelineRetry, ...]:
        """The retry counts still needed: pipelines of MR heads and of active attempts."""
        shas = {mr.head_sha for mr in self.mrs.values()}
        for attempt in self.attempts.values():
            if attempt.active:
                shas.update(s for s in (attempt.tested_sha, attempt.branch_sha) if s)
        kept = [retry for retry in self.retries.values() if retry.sha in shas]
        return tuple(sorted(kept, key=lambda retry: retry.pipeline_id))[-MAX_REMEMBERED_RETRIES:]

    # --- bookkeeping --------------------------------------------------------------------

    def emit(self, action: Action) -> None:
        """Add an action (the same key twice in one step is kept once)."""
        if all(existing.key != action.key for existing in self.actions):
            self.actions.append(action)

    def note(self, message: str) -> None:
        """Record a reason for the log."""
        self.notes.append(message)

    def new_id(self) -> int:
        """A fresh id for an attempt or a run (deterministic: replays get the same ids)."""
        value = self.next_id
        self.next_id += 1
        return value

    def results(self, kind: type[ResultT]) -> Iterator[ResultT]:
        """The results of the previous step's actions of one kind."""
        result: ActionResult
        for result in self.observations.results:
            if isinstance(result, kind):
                yield result

    def update_mr(self, iid: int, **changes: Any) -> QueuedMergeRequest:
        """Replace fields of queued MR ``iid``."""
        mr = self.mrs[iid].model_copy(update=changes)
        self.mrs[iid] = mr
        return mr

    def update_attempt(self, attempt_id: int, **changes: Any) -> Attempt:
        """Replace fields of attempt ``attempt_id``."""
        attempt = self.attempts[attempt_id].model_copy(update=changes)
        self.attempts[attempt_id] = attempt
        return attempt

    def comment(
        self, iid: int, template: str, head_sha: str, discriminator: str = "", /, **params: str
    ) -> None:
        """Post ``template`` on ``iid`` once per (iid, sha, template, discriminator)."""
        key = f"{iid}:{head_sha}:{template}" + (f":{discriminator}" if discriminator else "")
        mr = self.mrs.get(iid)
        if mr is not None:
            if key in mr.comments_posted:
                return
            remembered = (*mr.comments_posted, key)[-MAX_REMEMBERED_COMMENTS:]
            self.update_mr(iid, comments_posted=remembered)
        body = with_marker(render(template, params, self.config.signature), key)
        self.emit(
            PostComment(
                iid=iid,
                template=template,
                params=tuple(sorted(params.items())),
                comment_key=key,
                body=body,
            )
        )

    def history(self, event: str, iids: tuple[int, ...], record_key: str, **details: str) -> None:
        """Record an event in the merge history / audit log."""
        self.emit(
            RecordHistory(
                event=event,
                iids=iids,
                record_key=f"{self.project_id}:{self.target_branch}:{record_key}",
                details=tuple(sorted(details.items())),
            )
        )

    def mr_ref(self, iid: int) -> str:
        """How comments name an MR."""
        return f"!{iid}"
