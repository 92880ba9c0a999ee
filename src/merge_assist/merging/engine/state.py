"""The engine's state per (project, target branch): an immutable, JSON-serialisable value.

The executor stores it after every step (``to_json``) and resumes from it (``from_json``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from merge_assist.merging.engine.bisect import BisectState, Trial
from merge_assist.merging.engine.config import LabelKey
from merge_assist.merging.engine.values import Frozen

SCHEMA_VERSION = 1
# Bounded memories, so a long-lived MR cannot grow the state without limit.
MAX_REMEMBERED_COMMENTS = 50
MAX_REMEMBERED_BOT_SHAS = 10
MAX_REMEMBERED_RETRIES = 200
MAX_REMEMBERED_GOOD_TREES = 20


class Phase(StrEnum):
    """Where a recognised MR stands."""

    WAITING = "waiting"  # recognised; validation waits (pipeline running, GitLab checking)
    READY = "ready"  # passes validation; waits for its turn
    NOT_READY = "not_ready"  # fails validation, or blocked until the author pushes
    MERGING = "merging"  # part of an attempt in flight
    MERGED = "merged"  # landed by us; waiting for GitLab to report it merged


class QueuedMergeRequest(Frozen):
    """One recognised MR in the queue."""

    iid: int
    priority: int = 0
    recognised_at: datetime
    head_sha: str
    # The last head the author pushed (heads the bot made by rebasing are not the author's).
    author_sha: str
    bot_shas: tuple[str, ...] = ()
    strikes: int = 0
    last_strike_sha: str | None = None  # author sha of the last strike (one per sha)
    blocked_sha: str | None = None  # author sha the queue will not retry (needs a new push)
    labels_applied: tuple[LabelKey, ...] = ()
    comments_posted: tuple[str, ...] = ()
    phase: Phase = Phase.WAITING
    reasons: tuple[str, ...] = ()  # the last validation reasons, for the dashboard

    @property
    def blocked(self) -> bool:
        """The queue waits for a new push before trying this MR again."""
        return self.blocked_sha is not None and self.blocked_sha == self.author_sha


AttemptKind = Literal["single", "batch", "train-car"]
AttemptStatus = Literal["rebasing", "building", "testing", "landing", "done", "aborted"]
MemberStatus = Literal["pending", "merged", "conflict", "landed"]


class AttemptMember(Frozen):
    """One MR inside an attempt."""

    iid: int
    source_sha: str  # the MR head when the attempt started
    status: MemberStatus = "pending"
    prefix_sha: str | None = None  # the attempt's head after this member
    head_sha: str | None = None  # the MR head after it (differs when the source was rewritten)


class Attempt(Frozen):
    """Something built and tested: one MR (single), a batch, or a probe of a bisection."""

    id: int
    kind: AttemptKind
    members: tuple[AttemptMember, ...]
    base_sha: str
    status: AttemptStatus
    started_at: datetime
    probe: bool = False  # diagnosis only: never landed
    # An isolation trial: tested like the others, landed only if its round picks it.
    hold: bool = False
    plan: Trial | None = None  # the bisection test this attempt answers (batch)
    branch: str | None = None
    branch_sha: str | None = None
    tested_sha: str | None = None
    pipeline_ids: tuple[int, ...] = ()
    pipeline_requested: tuple[str, ...] = ()  # shas we asked to run
    batch_mr_iid: int | None = None
    batch_mr_url: str | None = None

    def member(self, iid: int) -> AttemptMember | None:
        """The member ``iid``, if any."""
        return next((m for m in self.members if m.iid == iid), None)

    @property
    def active(self) -> bool:
        """Still building, testing or landing."""
        return self.status not in ("done", "aborted")


class BatchRun(Frozen):
    """One batch and its bisection, from planning until every member is landed or out."""

    id: int
    base_sha: str  # the target when the run started: where probes are built
    # Where the target must be for what the bisection learned to still hold.
    expected_target_sha: str
    bisect: BisectState
    # Each member's head when the run started: a member that moves is dropped from the run.
    member_heads: tuple[tuple[int, str], ...]
    attempt_id: int | None = None
    # An isolation round in flight (attempts side by side) and the outcomes seen so far:
    # (attempt id, passed).
    round_ids: tuple[int, ...] = ()
    round_outcomes: tuple[tuple[int, bool], ...] = ()
    attempts: int = 0
    started_at: datetime


class PipelineRetry(Frozen):
    """How often the engine retried one failed pipeline (``refused``: GitLab would not)."""

    pipeline_id: int
    sha: str
    retries: int = 0
    refused: bool = False


class Train(Frozen):
    """The train strategy's cars (attempt ids, head first), its probes and its adaptive depth.

    ``cars`` are stacked: each is built on the tested tree of the one ahead and lands in turn.
    ``suspects``: groups of (iid, head) from failed cars, waiting for a probe of their own;
    ``hopeful``: the other halves, waiting for a probe on the chain of hopeful probes (each on
    the tree of the one before); ``probes``: probe attempts testing one group each on top of
    the cars (a probe that passed on the train's tail joins the train as a car);
    ``cleared``: groups whose probe passed elsewhere, each the next car of its own (two halves
    that pass apart may fail together). ``accused``: for an MR of a group that failed on a tree
    known to pass, the other members of that group; ``exonerated``: MRs that passed since
    (a lone failure whose group's others all passed is its group's failure seen again).
    ``landings``: the last cars landed (when, which MRs), so a culprit's comment can name what
    it likely breaks with.
    ``good``: trees known to pass (landed cars, targets probes were built on), so a probe's
    failure on one of them is the group's own. ``landed``: (tested sha, sha the target moved
    to) of the last car landed, so the next car (built on the tested sha) is known to test the
    target's tree. ``failed`` is read from states stored before probes existed."""

    cars: tuple[int, ...] = ()
    depth: int = 0  # 0: not started yet (train_depth)
    probes: tuple[int, ...] = ()
    chain: tuple[int, ...] = ()  # the hopeful probes among ``probes``, in order
    suspects: tuple[tuple[tuple[int, str], ...], ...] = ()
    hopeful: tuple[tuple[tuple[int, str], ...], ...] = ()
    cleared: tuple[tuple[tuple[int, str], ...], ...] = ()
    accused: tuple[tuple[int, tuple[int, ...]], ...] = ()
    exonerated: tuple[int, ...] = ()
    good: tuple[str, ...] = ()
    failed: tuple[tuple[int, str], ...] = ()
    landed: tuple[str, str] | None = None
    landings: tuple[tuple[datetime, tuple[int, ...]], ...] = ()  # the last ones: when, which

    @property
    def idle(self) -> bool:
        """No car, probe or suspect: nothing of the train to advance."""
        waiting = self.suspects or self.hopeful or self.cleared or self.failed
        return not (self.cars or self.probes or waiting)

    def suspected(self) -> set[int]:
        """The iids of the groups waiting for a probe or, cleared, for their car."""
        groups = (*self.suspects, *self.hopeful, *self.cleared)
        return {iid for group in groups for iid, _ in group}


class PendingCancel(Frozen):
    """A stopped attempt's pipeline not seen yet (GitLab creates it a moment after the push):
    cancelled when it shows up, forgotten after ``MAX_CANCEL_STEPS`` steps."""

    sha: str
    ref: str | None = None
    since_step: int


MAX_CANCEL_STEPS = 30


class TargetQueueState(Frozen):
    """Everything the engine remembers about one (project, target branch)."""

    schema_version: Literal[1] = 1
    project_id: int
    target_branch: str
    target_sha: str | None = None
    merge_requests: tuple[QueuedMergeRequest, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    batch_run: BatchRun | None = None
    train: Train = Train()
    # MRs rejected whose bot assignment we have not yet seen removed (re-unassign, no requeue).
    rejected: tuple[int, ...] = ()
    # Failed pipelines retried (kept while their sha is still tested or an MR's head).
    pipeline_retries: tuple[PipelineRetry, ...] = ()
    # Pipelines of stopped attempts to cancel once GitLab shows them.
    pending_cancels: tuple[PendingCancel, ...] = ()
    next_id: int = 1
    steps: int = 0

    def to_json(self) -> str:
        """Serialise for storage."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> TargetQueueState:
        """Load a stored state (raises pydantic.ValidationError on a corrupt one)."""
        return cls.model_validate_json(data)

    @classmethod
    def empty(cls, project_id: int, target_branch: str) -> TargetQueueState:
        """The state of a queue nobody used yet."""
        return cls(project_id=project_id, target_branch=target_branch)

    def merge_request(self, iid: int) -> QueuedMergeRequest | None:
        """The queued MR ``iid``, if any."""
        return next((mr for mr in self.merge_requests if mr.iid == iid), None)
