"""Collecting the facts about one MR: the queue's tables, then GitLab as the bot.

The queue's side (state, stored reasons, strikes, history, the latest batch) always comes;
GitLab's (the MR now, its approvals, failing jobs and their logs) is best effort: when GitLab
cannot be asked, the explanation says so in its notes instead of failing.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.assistant.explain import JobFacts, LiveReason, MergeRequestFacts
from merge_assist.gitlab import GitLabClient, GitLabError
from merge_assist.gitlab.models import MergeRequest
from merge_assist.kit.errors import MergeAssistError
from merge_assist.merging.adapter.head_pipelines import MergedHeads, as_pipeline
from merge_assist.merging.api import queries
from merge_assist.merging.api.listing import merge_request_out, position_of
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import MergeRequestSnapshot, Pipeline
from merge_assist.merging.engine.validation import validate
from merge_assist.merging.persistence.models import BatchOperation, MergeRequestRecord
from merge_assist.merging.schemas import BatchOut, HistoryOut
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import GitLabClientFactory

RECENT_BATCHES = 100
MAX_FAILING_JOBS = 3
TRACE_BYTES = 64_000
FAILED = "failed"


async def gather_facts(
    session: AsyncSession, client_factory: GitLabClientFactory, mr: MergeRequestRecord
) -> MergeRequestFacts:
    """Every fact about ``mr`` the explanation uses (GitLab's part best effort)."""
    project = await projects.get_project(session, mr.project_id)
    config = await projects.get_config(session, mr.project_id)
    history = await queries.history_of_mr(session, mr.project_id, mr.target_branch, mr.iid)
    batch = await latest_batch(session, mr)
    stored = merge_request_out(mr, await position_of(session, mr))
    facts = MergeRequestFacts(
        mr=stored,
        reference=f"{project.path_with_namespace}!{mr.iid}",
        max_strikes=config.max_rejections,
        history=[HistoryOut.model_validate(entry) for entry in history],
        batch=BatchOut.model_validate(batch) if batch is not None else None,
    )
    if mr.queue_state == "merged":
        return facts
    try:
        client = client_factory()
    except MergeAssistError as refusal:
        return _with_note(facts, f"GitLab was not asked: {refusal.message}")
    try:
        async with client:
            return await _with_gitlab(client, project.gitlab_project_id, facts)
    except GitLabError as exc:
        return _with_note(facts, f"GitLab could not be asked ({type(exc).__name__}): {exc}")


def _with_note(facts: MergeRequestFacts, note: str) -> MergeRequestFacts:
    return MergeRequestFacts(
        mr=facts.mr,
        reference=facts.reference,
        max_strikes=facts.max_strikes,
        history=facts.history,
        batch=facts.batch,
        notes=(*facts.notes, note[:500]),
    )


async def latest_batch(session: AsyncSession, mr: MergeRequestRecord) -> BatchOperation | None:
    """The batch the MR is in, else the newest of its queue's recent batches that held it
    (a batch attempt before a bisection probe of the same start)."""
    if mr.batch_id is not None:
        return await session.get(BatchOperation, mr.batch_id)
    query = (
        select(BatchOperation)
        .where(
            BatchOperation.project_id == mr.project_id,
            BatchOperation.target_branch == mr.target_branch,
        )
        .order_by(BatchOperation.id.desc())
        .limit(RECENT_BATCHES)
    )
    rows = [row for row in (await session.execute(query)).scalars() if mr.iid in row.member_iids]
    attempts = [row for row in rows if not row.probe]
    chosen = attempts or rows
    return chosen[0] if chosen else None


async def _with_gitlab(
    client: GitLabClient, project: int, facts: MergeRequestFacts
) -> MergeRequestFacts:
    """``facts`` plus what GitLab says now: the engine's reasons and the failing jobs."""
    found = await client.get_merge_request(project, facts.mr.iid)
    approvals_left = None
    # Some editions have no approvals API: ``detailed_merge_status`` tells instead.
    with contextlib.suppress(GitLabError):
        approvals_left = (await client.mr_approvals(project, facts.mr.iid)).approvals_left
    # A merged results pipeline ran on a merge commit: tie it to the head it merged.
    head = as_pipeline(found.head_pipeline, found.sha)
    head = await MergedHeads(client, project).tie(head) if head is not None else None
    live = live_reasons(found, approvals_left, head)
    pipeline_id = _failed_pipeline(found, facts, head)
    jobs: list[JobFacts] = []
    if pipeline_id is not None:
        jobs = await failing_jobs(client, project, pipeline_id)
    return MergeRequestFacts(
        mr=facts.mr,
        reference=facts.reference,
        max_strikes=facts.max_strikes,
        history=facts.history,
        batch=facts.batch,
        live=live,
        jobs=jobs,
        notes=facts.notes,
    )


def live_reasons(
    found: MergeRequest, approvals_left: int | None, pipeline: Pipeline | None
) -> list[LiveReason]:
    """The engine's validation of the MR as GitLab shows it now, ``pipeline`` being its
    ``head_pipeline`` (recognition and the target branch aside: the queue's own state says
    those). Validation trusts that pipeline only if it tests the MR's head."""
    head = found.sha or ""
    snapshot = MergeRequestSnapshot(
        iid=found.iid,
        target_branch=found.target_branch,
        head_sha=head,
        state=found.state,
        draft=found.draft,
        bot_is_assignee=True,
        detailed_merge_status=found.detailed_merge_status,
        has_conflicts=found.has_conflicts,
        blocking_discussions_resolved=found.blocking_discussions_resolved,
        approvals_left=approvals_left,
        head_pipeline=pipeline,
    )
    verdict = validate(snapshot, target_branch=found.target_branch, config=EngineConfig())
    return [LiveReason(code=reason.code, message=reason.message) for reason in verdict.reasons]


def _failed_pipeline(
    found: MergeRequest, facts: MergeRequestFacts, head: Pipeline | None
) -> int | None:
    """The failed pipeline to read jobs from: the MR's head pipeline (when it tests the MR's
    head), else the batch's when the MR was its culprit."""
    if head is not None and found.sha and head.tests(found.sha) and head.status == FAILED:
        return head.id
    batch = facts.batch
    culprit = batch is not None and facts.mr.iid in batch.culprit_iids
    if batch is not None and culprit and batch.pipeline_status == FAILED:
        return batch.pipeline_id
    return None


async def failing_jobs(client: GitLabClient, project: int, pipeline_id: int) -> list[JobFacts]:
    """The pipeline's failed jobs (not allowed to fail) with the end of their logs."""
    jobs = await client.pipeline_jobs(project, pipeline_id)
    failed = [job for job in jobs if job.status == FAILED and not job.allow_failure]
    found: list[JobFacts] = []
    for job in failed[:MAX_FAILING_JOBS]:
        trace = await client.job_trace(project, job.id, max_bytes=TRACE_BYTES)
        found.append(
            JobFacts(
                id=job.id,
                name=job.name,
                stage=job.stage,
                web_url=job.web_url,
                failure_reason=job.failure_reason,
                trace=trace,
            )
        )
    return found
