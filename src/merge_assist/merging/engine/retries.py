"""Flakes are not culprits: a failed pipeline is retried before its failure counts.

Where a tested pipeline's failure would strike an MR, reject it or decide a bisection, the
caller asks ``retry_failed`` first. Up to ``config.pipeline_retries`` retries per pipeline,
counted in the state (``TargetQueueState.pipeline_retries``) and emitted as ``RetryPipeline``
actions keyed by (pipeline, retry number): a replay after a crash emits the same action, and
the executor does nothing when GitLab already ran that retry. Only ``failed`` pipelines are
retried: a canceled one was stopped by someone, a skipped one had nothing to run.
"""

from __future__ import annotations

from merge_assist.merging.engine.actions import RetryPipeline
from merge_assist.merging.engine.observations import Pipeline, PipelineRetryResult
from merge_assist.merging.engine.state import PipelineRetry
from merge_assist.merging.engine.step import Step

CAUSE = "it failed; a flake is possible"


def absorb_results(step: Step) -> None:
    """Count the retries the executor reported (GitLab's count wins over a lost one of ours)."""
    for result in step.results(PipelineRetryResult):
        record = step.retries.get(result.pipeline_id) or PipelineRetry(
            pipeline_id=result.pipeline_id, sha=result.sha
        )
        step.retries[result.pipeline_id] = record.model_copy(
            update={
                "retries": max(record.retries, result.retries),
                "refused": record.refused or result.status == "refused",
            }
        )
        if result.status == "refused":
            step.note(f"pipeline #{result.pipeline_id} could not be retried: {result.message}")


def retries_left(step: Step, pipeline: Pipeline) -> bool:
    """``pipeline`` may still be retried: retries not used up, none refused by GitLab."""
    record = step.retries.get(pipeline.id)
    if record is None:
        return step.config.pipeline_retries > 0
    return not record.refused and record.retries < step.config.pipeline_retries


def retries_of(step: Step, pipeline: Pipeline) -> int:
    """How often ``pipeline`` was retried so far."""
    record = step.retries.get(pipeline.id)
    return record.retries if record is not None else 0


def retry_failed(step: Step, pipeline: Pipeline, *, iids: tuple[int, ...], subject: str) -> bool:
    """``pipeline`` failed where its failure would count: retry it while retries remain.

    True when a retry was asked for now (the caller keeps waiting, as for a running
    pipeline); False when the failure is final (retries used up, refused, or not a failure
    a retry could change).
    """
    if pipeline.status != "failed":
        return False
    limit = step.config.pipeline_retries
    # Kept while its head is (``Step._retries_kept``): a merged results pipeline's head is
    # its ``source_sha``, not the merge commit it ran on.
    record = step.retries.get(pipeline.id) or PipelineRetry(
        pipeline_id=pipeline.id, sha=pipeline.head_sha
    )
    if not retries_left(step, pipeline):
        return False
    retry = record.retries + 1
    step.retries[pipeline.id] = record.model_copy(update={"retries": retry})
    step.emit(
        RetryPipeline(
            pipeline_id=pipeline.id,
            sha=pipeline.head_sha,
            retry=retry,
            retries_allowed=limit,
            iids=iids,
            subject=subject,
            cause=CAUSE,
        )
    )
    step.busy = True
    return True


def retry_reason(step: Step, pipeline: Pipeline) -> str | None:
    """For an MR's reasons: its head pipeline runs again after a failure (None: it did not)."""
    retries = retries_of(step, pipeline)
    if retries == 0:
        return None
    limit = max(step.config.pipeline_retries, retries)
    return (
        f"pipeline #{pipeline.id} failed and is retried "
        f"(attempt {retries + 1} of {limit + 1}): {CAUSE}"
    )
