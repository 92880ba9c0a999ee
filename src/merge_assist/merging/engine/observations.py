"""What the executor read from GitLab (and the vault) before a decision, as plain values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field

from merge_assist.merging.engine.values import Frozen

PipelineVerdict = Literal["passed", "failed", "running"]

PASSED_STATUSES = frozenset({"success"})
# skipped counts as a failure: nothing was tested, so the tree is not known to be green.
FAILED_STATUSES = frozenset({"failed", "canceled", "skipped"})
# A blocking manual job (``when: manual``) holds the pipeline ``manual`` until someone plays
# it: it never finishes by itself (``scheduled``, ``waiting_for_resource``, ``preparing`` do).
BLOCKED_STATUSES = frozenset({"manual"})


def pipeline_verdict(status: str) -> PipelineVerdict:
    """Success passes; failed/canceled/skipped fail; every other status is still running
    (``manual`` too, which ``Pipeline.blocked`` tells apart: it waits for a person)."""
    if status in PASSED_STATUSES:
        return "passed"
    if status in FAILED_STATUSES:
        return "failed"
    return "running"


# GitLab's ``source`` of a merge request pipeline (detached, merged results or train).
MERGE_REQUEST_EVENT = "merge_request_event"


class Pipeline(Frozen):
    """A pipeline as GitLab reports it.

    ``sha`` is the commit it ran on. A merged results (or merge train) pipeline runs on a
    merge commit GitLab made of the MR's head and the target: ``source_sha`` is that head
    (GitLab's ``ci_pipelines.source_sha``), None for a pipeline that ran on the head itself.
    """

    id: int
    sha: str
    status: str
    ref: str | None = None
    web_url: str | None = None
    source: str | None = None
    source_sha: str | None = None

    @property
    def verdict(self) -> PipelineVerdict:
        """What this pipeline's status means for the engine."""
        return pipeline_verdict(self.status)

    @property
    def blocked(self) -> bool:
        """Waits for someone to play a manual job in GitLab: it never finishes by itself."""
        return self.status in BLOCKED_STATUSES

    @property
    def head_sha(self) -> str:
        """The head this pipeline tests: its ``source_sha``, else the commit it ran on."""
        return self.source_sha or self.sha

    def tests(self, head_sha: str) -> bool:
        """This pipeline belongs to ``head_sha`` (GitLab's ``for_sha_or_source_sha``)."""
        return head_sha in (self.sha, self.source_sha)

    @property
    def rank(self) -> tuple[bool, bool, int]:
        """GitLab's order among the pipelines of one head: merge request pipelines first,
        then the newest (``Ci::PipelinesForMergeRequestFinder#sort``) — after any that ran: a
        skipped one tested nothing (a ``[skip ci]`` push pipeline GitLab saves a moment after
        the pipeline started through the API for the same commit must not hide it)."""
        return self.status != "skipped", self.source == MERGE_REQUEST_EVENT, self.id


class MergeRequestSnapshot(Frozen):
    """One MR as read from GitLab (plus its queue priority from the database)."""

    iid: int
    target_branch: str
    head_sha: str
    state: str = "opened"  # opened | closed | merged | locked (404 → report "closed")
    title: str = ""
    author: str = ""
    author_id: int | None = None  # the author's GitLab user id (for notifications)
    web_url: str = ""
    source_branch: str = ""
    draft: bool = False
    bot_is_assignee: bool = False
    bot_is_reviewer: bool = False
    # diff_refs.base_sha (or the merge base): equal to the target head when not behind.
    base_sha: str | None = None
    detailed_merge_status: str | None = None
    has_conflicts: bool = False
    blocking_discussions_resolved: bool = True
    approvals_left: int | None = None  # None: not read (detailed_merge_status tells)
    head_pipeline: Pipeline | None = None
    labels: tuple[str, ...] = ()
    files_changed: tuple[str, ...] = ()
    priority: int = 0  # set through the API (database), not GitLab

    @property
    def recognised(self) -> bool:
        """The bot is among the assignees or the reviewers."""
        return self.bot_is_assignee or self.bot_is_reviewer


class FileLock(Frozen):
    """A vault check-out: ``path`` is held by ``holder`` (a GitLab username)."""

    path: str
    holder: str


# --- results of the actions performed in the previous step ---------------------------------


class RebaseResult(Frozen):
    """Outcome of ``Rebase``; ``new_sha`` is the MR head after it."""

    kind: Literal["rebase"] = "rebase"
    iid: int
    status: Literal["done", "conflict", "in_progress", "failed"]
    new_sha: str | None = None
    message: str = ""


class BuiltMember(Frozen):
    """One member of a built batch: merged (``prefix_sha`` is the batch head after it) or
    skipped because it conflicts (``prefix_sha`` is the head it did not merge onto)."""

    iid: int
    status: Literal["merged", "conflict"]
    prefix_sha: str | None = None


class BatchBuildResult(Frozen):
    """Outcome of ``BuildBatch``: the pushed head (``sha``) and each member's fate."""

    kind: Literal["batch_build"] = "batch_build"
    attempt_id: int
    status: Literal["built", "failed"]
    sha: str | None = None
    members: tuple[BuiltMember, ...] = ()
    message: str = ""


class BatchMRResult(Frozen):
    """Outcome of ``CreateBatchMR``."""

    kind: Literal["batch_mr"] = "batch_mr"
    attempt_id: int
    status: Literal["created", "failed"]
    iid: int | None = None
    web_url: str | None = None


class PipelineResult(Frozen):
    """Outcome of ``RunPipeline`` (an existing pipeline for the sha counts)."""

    kind: Literal["pipeline"] = "pipeline"
    attempt_id: int
    sha: str
    status: Literal["created", "failed"]
    pipeline_id: int | None = None


class PipelineRetryResult(Frozen):
    """Outcome of ``RetryPipeline``: ``retried`` (now or before: ``retries`` is how often
    GitLab has retried the pipeline so far) or ``refused`` (GitLab would not: the failure is
    final)."""

    kind: Literal["pipeline_retry"] = "pipeline_retry"
    pipeline_id: int
    sha: str
    status: Literal["retried", "refused"]
    retries: int = 0
    message: str = ""


class MergeResult(Frozen):
    """Outcome of ``MergeMR``. ``merged`` also when the MR was already merged at that sha."""

    kind: Literal["merge"] = "merge"
    iid: int
    status: Literal["merged", "sha_mismatch", "target_moved", "not_mergeable", "failed"]
    merge_sha: str | None = None  # the target head after the merge
    message: str = ""


class PushResult(Frozen):
    """Outcome of ``PushTarget``. ``pushed`` also when the target already was at the sha."""

    kind: Literal["push"] = "push"
    attempt_id: int
    status: Literal["pushed", "stale", "failed"]
    new_sha: str | None = None
    message: str = ""


ActionResult = Annotated[
    RebaseResult
    | BatchBuildResult
    | BatchMRResult
    | PipelineResult
    | PipelineRetryResult
    | MergeResult
    | PushResult,
    Field(discriminator="kind"),
]


class Observations(Frozen):
    """Everything read for one (project, target branch) before a decision.

    ``merge_requests`` holds every open MR into the branch on which the bot is assignee or
    reviewer, plus every MR the state mentions, whatever its state now.
    """

    project_id: int
    target_branch: str
    target_sha: str | None
    merge_requests: tuple[MergeRequestSnapshot, ...] = ()
    pipelines: tuple[Pipeline, ...] = ()
    results: tuple[ActionResult, ...] = ()
    locks: tuple[FileLock, ...] = ()


def pipelines_by_head(pipelines: Iterable[Pipeline]) -> dict[str, Pipeline]:
    """The pipeline GitLab counts for each head (``Pipeline.head_sha``): a merge request
    pipeline before a branch pipeline, then the newest (``MergeRequest#diff_head_pipeline``)."""
    chosen: dict[str, Pipeline] = {}
    for pipeline in pipelines:
        known = chosen.get(pipeline.head_sha)
        if known is None or pipeline.rank > known.rank:
            chosen[pipeline.head_sha] = pipeline
    return chosen


def pipelines_by_sha(
    pipelines: Iterable[Pipeline], snapshots: Iterable[MergeRequestSnapshot]
) -> dict[str, Pipeline]:
    """The pipeline of each tested head, from both sources (``pipelines_by_head``)."""
    candidates = list(pipelines)
    candidates += [mr.head_pipeline for mr in snapshots if mr.head_pipeline is not None]
    return pipelines_by_head(candidates)
