"""Validation of one MR: every reason at once, each one waiting or failing (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import FileLock, MergeRequestSnapshot, Pipeline
from merge_assist.merging.engine.values import Frozen

VerdictStatus = Literal["passing", "waiting", "failing"]

# detailed_merge_status values that only mean "GitLab has not finished looking".
_CHECKING_STATUSES = frozenset({"checking", "unchecked", "preparing", "approvals_syncing"})
# Strategies that merge each MR themselves into a batch branch: a conflict shows in the build,
# approvals, discussions and the pipeline are read from their own fields, so GitLab's
# recheck after every target move (``checking``, ``unchecked``...) need not hold an MR back.
BUILDING_STRATEGIES = frozenset({"batch", "train"})
# The code of the reason a head pipeline waiting for a manual job gives.
MANUAL_JOB = "pipeline_manual"


class Reason(Frozen):
    """Why an MR cannot merge now. ``waiting`` reasons resolve by themselves; ``held``
    reasons are nobody's fault in the MR (a vault check-out by someone else): the MR waits
    for them with a comment, and they never earn a strike."""

    code: str
    message: str
    waiting: bool = False
    held: bool = False


class Verdict(Frozen):
    """The result of validating one MR."""

    status: VerdictStatus
    reasons: tuple[Reason, ...] = ()
    # The pipeline of the current head sha has finished (its result is final).
    ci_finished: bool = False

    @property
    def failing_reasons(self) -> tuple[Reason, ...]:
        """Only the reasons that will not resolve by themselves."""
        return tuple(reason for reason in self.reasons if not reason.waiting)

    @property
    def only_held(self) -> bool:
        """Failing only because of ``held`` reasons (no strike; re-checked every step)."""
        failing = self.failing_reasons
        return bool(failing) and all(reason.held for reason in failing)


def validate(
    mr: MergeRequestSnapshot,
    *,
    target_branch: str,
    config: EngineConfig,
    locks: Sequence[FileLock] = (),
    pipelines: Mapping[str, Pipeline] | None = None,
    include_ci: bool = True,
) -> Verdict:
    """Collect every reason ``mr`` cannot merge into ``target_branch`` now.

    ``include_ci`` False skips the head-pipeline and conflict checks (for MRs inside an
    attempt, whose head is being rebuilt and tested by the engine itself).
    """
    built = config.strategy in BUILDING_STRATEGIES
    reasons = [
        *_state_reasons(mr, target_branch, config),
        *_review_reasons(mr, include_ci, wait_for_checks=not built),
    ]
    reasons += _lock_reasons(mr, locks)
    ci_finished = False
    if include_ci:
        pipeline_reasons, ci_finished = _pipeline_reasons(mr, pipelines or {})
        reasons += pipeline_reasons
    if any(not reason.waiting for reason in reasons):
        status: VerdictStatus = "failing"
    elif reasons:
        status = "waiting"
    else:
        status = "passing"
    return Verdict(status=status, reasons=tuple(reasons), ci_finished=ci_finished)


def _state_reasons(
    mr: MergeRequestSnapshot, target_branch: str, config: EngineConfig
) -> list[Reason]:
    reasons = []
    if mr.state != "opened":
        reasons.append(Reason(code="not_open", message=f"the merge request is {mr.state}"))
    if not mr.recognised:
        reasons.append(
            Reason(code="not_recognised", message="the bot is no longer assignee or reviewer")
        )
    if mr.target_branch != target_branch or not config.allows_target(mr.target_branch):
        reasons.append(
            Reason(
                code="target_not_allowed",
                message=f"target branch `{mr.target_branch}` is not served by the merge queue",
            )
        )
    if mr.draft:
        reasons.append(Reason(code="draft", message="the merge request is marked as draft"))
    return reasons


def _review_reasons(
    mr: MergeRequestSnapshot, include_conflicts: bool, *, wait_for_checks: bool
) -> list[Reason]:
    reasons = []
    status = mr.detailed_merge_status
    if include_conflicts and (mr.has_conflicts or status == "conflict"):
        reasons.append(Reason(code="conflicts", message="it has conflicts with the target branch"))
    if not mr.blocking_discussions_resolved or status == "discussions_not_resolved":
        reasons.append(Reason(code="discussions", message="blocking discussions are not resolved"))
    if mr.approvals_left is not None:
        if mr.approvals_left > 0:
            plural = "s" if mr.approvals_left != 1 else ""
            reasons.append(
                Reason(
                    code="approvals",
                    message=f"it needs {mr.approvals_left} more approval{plural}",
                )
            )
    elif status == "not_approved":
        reasons.append(Reason(code="approvals", message="it is not approved"))
    if status in _CHECKING_STATUSES and wait_for_checks:
        reasons.append(
            Reason(code="checking", message="GitLab is still checking mergeability", waiting=True)
        )
    return [*reasons, *_gitlab_only_reasons(status)]


# detailed_merge_status values (GitLab 17/18) for blockers we do not read elsewhere.
_GITLAB_ONLY_REASONS = {
    "requested_changes": Reason(code="requested_changes", message="a reviewer requested changes"),
    "locked_paths": Reason(
        code="gitlab_locked_paths", message="GitLab reports a changed path locked by someone else"
    ),
    "locked_lfs_files": Reason(
        code="gitlab_locked_lfs_files",
        message="GitLab reports a changed LFS file locked by someone else",
    ),
    "commits_status": Reason(
        code="no_commits", message="the source branch is missing or has no commits"
    ),
}


def _gitlab_only_reasons(status: str | None) -> list[Reason]:
    found = _GITLAB_ONLY_REASONS.get(status or "")
    return [found] if found is not None else []


def _lock_reasons(mr: MergeRequestSnapshot, locks: Sequence[FileLock]) -> list[Reason]:
    held = {lock.path: lock.holder for lock in locks}
    reasons = []
    for path in sorted(set(mr.files_changed)):
        holder = held.get(path)
        if holder is not None and holder != mr.author:
            reasons.append(
                Reason(
                    code="file_locked",
                    message=f"`{path}` is checked out in the vault by @{holder}",
                    held=True,
                )
            )
    return reasons


def head_pipeline_of(
    mr: MergeRequestSnapshot, pipelines: Mapping[str, Pipeline]
) -> Pipeline | None:
    """The pipeline of the MR's current head: the one seen for that head, else the MR's
    ``head_pipeline`` when it tests that head (a merged results pipeline's ``source_sha``);
    a head pipeline of an older head (GitLab updates it late) is never trusted."""
    pipeline = pipelines.get(mr.head_sha)
    head = mr.head_pipeline
    if pipeline is None and head is not None and head.tests(mr.head_sha):
        pipeline = head
    return pipeline


def _pipeline_reasons(
    mr: MergeRequestSnapshot, pipelines: Mapping[str, Pipeline]
) -> tuple[list[Reason], bool]:
    pipeline = head_pipeline_of(mr, pipelines)
    if pipeline is None:
        return [
            Reason(
                code="no_pipeline",
                message=f"no pipeline has run yet for {mr.head_sha[:8]}",
                waiting=True,
            )
        ], False
    verdict = pipeline.verdict
    if verdict == "passed":
        return [], True
    if pipeline.blocked:
        return [manual_job_reason(pipeline)], False
    if verdict == "running":
        message = f"pipeline #{pipeline.id} is {pipeline.status}"
        return [Reason(code="pipeline_running", message=message, waiting=True)], False
    message = f"pipeline #{pipeline.id} {pipeline.status} for {mr.head_sha[:8]}"
    return [Reason(code="pipeline_failed", message=message)], True


def manual_job_reason(pipeline: Pipeline) -> Reason:
    """The head pipeline waits for a manual job: nobody's fault in the MR and it never
    resolves by itself, so the MR is held (one comment, no strike) until someone plays it."""
    message = f"pipeline #{pipeline.id} waits for a manual job: someone must play it in GitLab"
    return Reason(code=MANUAL_JOB, message=message, held=True)
