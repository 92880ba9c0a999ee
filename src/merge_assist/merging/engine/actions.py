"""What the executor must do, as plain values. Every action is idempotent by its ``key``.

Performing an action twice (after a crash, before the new state was stored) must leave GitLab
as performing it once: the notes under each class say how the executor achieves that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from merge_assist.merging.engine.values import Frozen


class AddLabels(Frozen):
    """Add labels to an MR, and remove ``remove`` in the same update (one call; adding a
    present label or removing an absent one is a no-op in GitLab)."""

    kind: Literal["add_labels"] = "add_labels"
    iid: int
    labels: tuple[str, ...]
    remove: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        removed = f"-{','.join(sorted(self.remove))}" if self.remove else ""
        return f"labels+:{self.iid}:{','.join(sorted(self.labels))}{removed}"


class RemoveLabels(Frozen):
    """Remove labels from an MR (removing an absent label is a no-op)."""

    kind: Literal["remove_labels"] = "remove_labels"
    iid: int
    labels: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"labels-:{self.iid}:{','.join(sorted(self.labels))}"


class PostComment(Frozen):
    """Post ``body`` on an MR unless a note carrying ``comment_key`` already exists.

    The body ends with an HTML comment holding the key, so the executor can find it.
    """

    kind: Literal["post_comment"] = "post_comment"
    iid: int
    template: str
    params: tuple[tuple[str, str], ...]
    comment_key: str
    body: str

    @property
    def key(self) -> str:
        return f"comment:{self.comment_key}"


class Unassign(Frozen):
    """Remove the bot from the MR's assignees and reviewers."""

    kind: Literal["unassign"] = "unassign"
    iid: int

    @property
    def key(self) -> str:
        return f"unassign:{self.iid}"


class Rebase(Frozen):
    """Rebase the MR's source branch onto ``onto_sha`` (no-op when already on it)."""

    kind: Literal["rebase"] = "rebase"
    iid: int
    expected_head_sha: str
    onto_sha: str

    @property
    def key(self) -> str:
        return f"rebase:{self.iid}:{self.expected_head_sha}:{self.onto_sha}"


class BatchSource(Frozen):
    """One member of a batch to build: MR ``iid`` at ``source_sha``."""

    iid: int
    source_sha: str


class BuildBatch(Frozen):
    """Build ``branch`` from ``base_sha`` by merging each member's ``source_sha`` in order with
    a merge commit (a member that conflicts is skipped, the next one merged on top), then push
    it **once**: one push, one pipeline. A branch already built from this base and these
    sources is kept as it is (a replay pushes nothing). MR branches are never rewritten.
    ``skip_ci``: the merge commits say ``[skip ci]``, so the tree it lands as (a fast-forward
    through the merge API) runs no pipeline on the target again; the push runs none either,
    and the engine starts the batch's pipeline through the API, which ignores it."""

    kind: Literal["build_batch"] = "build_batch"
    attempt_id: int
    branch: str
    base_sha: str
    members: tuple[BatchSource, ...]
    skip_ci: bool = False

    @property
    def key(self) -> str:
        return f"batch-build:{self.attempt_id}:{self.branch}"


class CreateBatchMR(Frozen):
    """Open the batch MR from ``branch`` (reuse an open MR from the same branch)."""

    kind: Literal["create_batch_mr"] = "create_batch_mr"
    attempt_id: int
    branch: str
    target_branch: str
    title: str
    description: str
    labels: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"batch-mr:{self.attempt_id}"


class RunPipeline(Frozen):
    """Make sure a pipeline runs for ``sha`` on ``ref`` (reuse one that exists for the sha)."""

    kind: Literal["run_pipeline"] = "run_pipeline"
    attempt_id: int
    ref: str
    sha: str

    @property
    def key(self) -> str:
        return f"pipeline:{self.attempt_id}:{self.sha}"


class RetryPipeline(Frozen):
    """Retry the failed jobs of pipeline ``pipeline_id`` (same id: GitLab runs it again).

    ``retry`` is which retry this is (1 = the first). The executor counts the retries GitLab
    already ran (jobs superseded by a retry) and does nothing when this one already happened,
    so a replay after a crash never retries the same failure twice. ``subject`` says what the
    pipeline tests (``!7``, ``batch 12 (!3, !4)``) and ``cause`` why it is retried, for the log.
    ``sha`` is the head the pipeline tests (``Pipeline.head_sha``).
    """

    kind: Literal["retry_pipeline"] = "retry_pipeline"
    pipeline_id: int
    sha: str
    retry: int
    retries_allowed: int
    iids: tuple[int, ...] = ()
    subject: str = ""
    cause: str = "it failed; a flake is possible"

    @property
    def key(self) -> str:
        return f"retry-pipeline:{self.pipeline_id}:{self.retry}"


class CancelPipeline(Frozen):
    """Cancel the pipeline of an attempt that stopped (its tree will never land): the runners
    go to the attempts that replace it. Cancelling a finished pipeline changes nothing.
    Without ``pipeline_id`` (not seen yet: the attempt stopped right after its push), the
    unfinished pipelines of ``sha`` on ``ref`` are cancelled."""

    kind: Literal["cancel_pipeline"] = "cancel_pipeline"
    pipeline_id: int | None = None
    sha: str
    ref: str | None = None

    @property
    def key(self) -> str:
        return f"cancel-pipeline:{self.pipeline_id or self.sha}"


class MergeMR(Frozen):
    """Merge the MR through the API with ``sha`` pinned.

    Refuse (``target_moved``) when the target head is not ``expected_target_sha``: with merge
    commits GitLab would otherwise merge onto a tree nobody tested.
    """

    kind: Literal["merge_mr"] = "merge_mr"
    iid: int
    sha: str
    expected_target_sha: str | None
    # Ask GitLab for no target pipeline: the merge commit's message says ``[skip ci]``.
    skip_ci: bool = False

    @property
    def key(self) -> str:
        return f"merge:{self.iid}:{self.sha}"


class PushTarget(Frozen):
    """Move the target to ``sha`` only if it is at ``expected_old_sha`` (compare-and-swap).

    Already at ``sha`` counts as pushed.
    """

    kind: Literal["push_target"] = "push_target"
    attempt_id: int
    target_branch: str
    sha: str
    expected_old_sha: str
    skip_ci: bool = False  # push with ``-o ci.skip``: the tree passed CI already

    @property
    def key(self) -> str:
        return f"push:{self.target_branch}:{self.expected_old_sha}:{self.sha}"


class CloseBatchMR(Frozen):
    """Close the batch MR (already closed or merged is fine)."""

    kind: Literal["close_batch_mr"] = "close_batch_mr"
    iid: int

    @property
    def key(self) -> str:
        return f"close-batch-mr:{self.iid}"


class DeleteBranch(Frozen):
    """Delete one of the engine's own branches (missing is fine)."""

    kind: Literal["delete_branch"] = "delete_branch"
    branch: str

    @property
    def key(self) -> str:
        return f"delete-branch:{self.branch}"


class RecordHistory(Frozen):
    """Append to merge history / batch operations / audit (unique by ``record_key``)."""

    kind: Literal["record_history"] = "record_history"
    event: str  # merged | rejected | struck | removed | batch_finished | ...
    iids: tuple[int, ...]
    record_key: str
    details: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"history:{self.record_key}"


class Wait(Frozen):
    """Nothing to do now: look again at ``until`` (or on the next webhook)."""

    kind: Literal["wait"] = "wait"
    reason: str
    until: datetime | None = None

    @property
    def key(self) -> str:
        return f"wait:{self.reason}"


Action = Annotated[
    AddLabels
    | RemoveLabels
    | PostComment
    | Unassign
    | Rebase
    | BuildBatch
    | CreateBatchMR
    | RunPipeline
    | RetryPipeline
    | CancelPipeline
    | MergeMR
    | PushTarget
    | CloseBatchMR
    | DeleteBranch
    | RecordHistory
    | Wait,
    Field(discriminator="kind"),
]
