"""The rows the API and the dashboard read, derived after each step from the engine's state.

* ``merge_requests``: one row per MR the state knows (queue state from its phase, reasons,
  strikes, head, pipeline) and per MR merged, rejected or removed in this step. Rows of the
  branch still marked as queued whose MR the state no longer knows become ``removed``. The
  ``priority`` column belongs to the API and is never written here.
* ``batch_operations``: one row per batch attempt (and bisection probe), from its start until
  it ends (landed, failed, passed probe, aborted).

Rows are compared before writing: only the ones that changed are returned (for live events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.merging.engine.actions import RecordHistory
from merge_assist.merging.engine.observations import Observations, Pipeline, pipelines_by_sha
from merge_assist.merging.engine.ordering import queue_order
from merge_assist.merging.engine.state import Attempt, Phase, QueuedMergeRequest, TargetQueueState
from merge_assist.merging.persistence.models import BatchOperation, MergeRequestRecord

MERGED_ELSEWHERE = "was merged outside the queue"  # membership._why_left
QUEUED_STATES = ("waiting", "ready", "not_ready", "merging", "in_batch")
_BY_PHASE = {
    Phase.WAITING: "waiting",
    Phase.READY: "ready",
    Phase.NOT_READY: "not_ready",
    Phase.MERGED: "merged",
}


@dataclass
class Projection:
    """The rows a step changed (their ids are known: flushed)."""

    merge_requests: list[MergeRequestRecord] = field(default_factory=list)
    batches: list[BatchOperation] = field(default_factory=list)


@dataclass(frozen=True)
class StepFacts:
    """What one stored step knows: the states before and after, what was seen and recorded."""

    project_id: int
    target_branch: str
    before: TargetQueueState
    after: TargetQueueState
    observations: Observations
    history: Sequence[RecordHistory]
    now: datetime

    def events(self, name: str) -> list[RecordHistory]:
        """The history records of one event kind."""
        return [record for record in self.history if record.event == name]

    @property
    def pipelines(self) -> dict[str, Pipeline]:
        """GitLab's pipeline of each observed head (``pipelines_by_head``)."""
        return pipelines_by_sha(self.observations.pipelines, self.observations.merge_requests)


async def priorities(session: AsyncSession, project_id: int, iids: Iterable[int]) -> dict[int, int]:
    """The priorities set through the API for these MRs (MRs without a row have none)."""
    wanted = sorted(set(iids))
    if not wanted:
        return {}
    found = await session.execute(
        select(MergeRequestRecord.iid, MergeRequestRecord.priority).where(
            MergeRequestRecord.project_id == project_id, MergeRequestRecord.iid.in_(wanted)
        )
    )
    return {row.iid: row.priority for row in found}


def positions(state: TargetQueueState) -> dict[int, int]:
    """1-based landing order of the waiting and ready MRs."""
    waiting = [mr for mr in state.merge_requests if mr.phase in (Phase.WAITING, Phase.READY)]
    return {mr.iid: place for place, mr in enumerate(queue_order(waiting), start=1)}


async def project_step(session: AsyncSession, facts: StepFacts) -> Projection:
    """Bring ``merge_requests`` and ``batch_operations`` in line with the step; flushed."""
    batches, batch_rows = await _project_batches(session, facts)
    merge_requests = await _project_merge_requests(session, facts, batch_rows)
    await session.flush()
    return Projection(merge_requests=merge_requests, batches=batches)


def _assign(row: Any, values: Mapping[str, Any]) -> bool:
    """Set the values that differ; True when something changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


# --- batch_operations -----------------------------------------------------------------------

# Attempts shown as batch operations: batches, their trials and probes, and train cars.
BATCH_KINDS = frozenset({"batch", "train-car"})


async def _project_batches(
    session: AsyncSession, facts: StepFacts
) -> tuple[list[BatchOperation], dict[int, BatchOperation]]:
    current = {a.id: a for a in facts.after.attempts if a.kind in BATCH_KINDS}
    ended = {
        a.id: a for a in facts.before.attempts if a.kind in BATCH_KINDS and a.id not in current
    }
    ids = sorted({*current, *ended})
    if not ids:
        return [], {}
    found = await session.execute(
        select(BatchOperation).where(
            BatchOperation.project_id == facts.project_id,
            BatchOperation.target_branch == facts.target_branch,
            BatchOperation.attempt_id.in_(ids),
        )
    )
    rows = {row.attempt_id: row for row in found.scalars()}
    changed = []
    for attempt_id in ids:
        attempt = current.get(attempt_id) or ended[attempt_id]
        values = _attempt_values(facts, attempt)
        if attempt_id in ended:
            values.update(_ending(facts, attempt))
        row = rows.get(attempt_id)
        if row is None:
            row = rows[attempt_id] = BatchOperation(
                project_id=facts.project_id,
                target_branch=facts.target_branch,
                attempt_id=attempt_id,
                started_at=attempt.started_at,
                **values,
            )
            session.add(row)
            changed.append(row)
        elif _assign(row, values):
            changed.append(row)
    await session.flush()
    return changed, rows


def _attempt_values(facts: StepFacts, attempt: Attempt) -> dict[str, Any]:
    values: dict[str, Any] = {
        "probe": attempt.probe,
        "status": attempt.status,
        "member_iids": [m.iid for m in attempt.members],
        "branch": attempt.branch,
        "base_sha": attempt.base_sha,
    }
    for run in (facts.after.batch_run, facts.before.batch_run):
        if run is not None and (run.attempt_id == attempt.id or attempt.id in run.round_ids):
            values["run_id"] = run.id
            break
    sticky = {
        "batch_mr_iid": attempt.batch_mr_iid,
        "batch_mr_url": attempt.batch_mr_url,
        "tested_sha": attempt.tested_sha,
        "pipeline_id": attempt.pipeline_ids[-1] if attempt.pipeline_ids else None,
    }
    pipeline = facts.pipelines.get(attempt.tested_sha) if attempt.tested_sha else None
    if pipeline is not None:
        sticky["pipeline_id"] = pipeline.id
        sticky["pipeline_status"] = pipeline.status
    # Unknown now is not unknown for ever: keep what an earlier step saw.
    values.update({name: value for name, value in sticky.items() if value is not None})
    return values


def _ending(facts: StepFacts, attempt: Attempt) -> dict[str, Any]:
    """Status and outcome of an attempt that ended in this step."""
    values: dict[str, Any] = {"finished_at": facts.now}
    members = {m.iid for m in attempt.members}
    culprits = [r.iids[0] for r in facts.events("culprit") if r.iids and r.iids[0] in members]
    values["culprit_iids"] = culprits
    landed = [
        r for r in facts.events("batch_landed") if r.record_key.endswith(f":{attempt.id}:landed")
    ]
    pipeline = facts.pipelines.get(attempt.tested_sha) if attempt.tested_sha else None
    verdict = pipeline.verdict if pipeline is not None else None
    if landed:
        record = landed[0]
        values.update(
            status="landed",
            landed_iids=list(record.iids),
            landed_sha=dict(record.details).get("sha"),
        )
    elif verdict == "failed":
        values["status"] = "failed"
    elif attempt.probe and verdict == "passed":
        values["status"] = "passed"
    else:
        values["status"] = "aborted"
    return values


# --- merge_requests -------------------------------------------------------------------------


async def _project_merge_requests(
    session: AsyncSession, facts: StepFacts, batch_rows: Mapping[int, BatchOperation]
) -> list[MergeRequestRecord]:
    queued = {mr.iid: mr for mr in facts.after.merge_requests}
    outcomes = _outcomes(facts)
    iids = sorted({*queued, *facts.after.rejected, *outcomes})
    found = await session.execute(
        select(MergeRequestRecord).where(
            MergeRequestRecord.project_id == facts.project_id,
            (
                MergeRequestRecord.iid.in_(iids)
                | (
                    (MergeRequestRecord.target_branch == facts.target_branch)
                    & MergeRequestRecord.queue_state.in_(QUEUED_STATES)
                )
            ),
        )
    )
    rows = {row.iid: row for row in found.scalars()}
    in_attempt = _batch_attempt_of(facts.after.attempts, batch_rows)
    changed = []
    for iid in sorted({*iids, *rows}):
        row = rows.get(iid)
        if iid in queued:
            values = _queued_values(facts, queued[iid], row, in_attempt.get(iid))
        elif iid in outcomes or iid in facts.after.rejected:
            values = _left_values(facts, iid, outcomes.get(iid, "rejected"), row)
        elif row is not None and row.target_branch == facts.target_branch:
            values = {"queue_state": "removed", "batch_id": None}  # forgotten by the engine
        else:
            continue
        values.update(_snapshot_values(facts, iid, values.get("head_sha") or _head(row)))
        if row is None:
            values.setdefault("target_branch", facts.target_branch)
            row = MergeRequestRecord(project_id=facts.project_id, iid=iid, **values)
            session.add(row)
            changed.append(row)
        elif _assign(row, values):
            changed.append(row)
    return changed


def _head(row: MergeRequestRecord | None) -> str | None:
    return row.head_sha if row is not None else None


def _outcomes(facts: StepFacts) -> dict[int, str]:
    """MRs that left the queue (or landed) in this step, by how."""
    outcomes: dict[int, str] = {}
    for event, outcome in (("removed", "removed"), ("merged", "merged"), ("rejected", "rejected")):
        for record in facts.events(event):
            # Merged all the same (by hand, or by us in a step whose new state was lost).
            elsewhere = dict(record.details).get("reason") == MERGED_ELSEWHERE
            outcomes.update(dict.fromkeys(record.iids, "merged" if elsewhere else outcome))
    return outcomes


def _batch_attempt_of(
    attempts: Iterable[Attempt], batch_rows: Mapping[int, BatchOperation]
) -> dict[int, int]:
    """Each MR in an active batch attempt → that attempt's ``batch_operations.id``."""
    found: dict[int, int] = {}
    for attempt in attempts:
        row = batch_rows.get(attempt.id)
        if attempt.kind in BATCH_KINDS and row is not None:
            for member in attempt.members:
                found[member.iid] = row.id
    return found


def _queued_values(
    facts: StepFacts,
    mr: QueuedMergeRequest,
    row: MergeRequestRecord | None,
    batch_id: int | None,
) -> dict[str, Any]:
    run = facts.after.batch_run
    in_run = run is not None and mr.iid in dict(run.member_heads)
    if mr.phase == Phase.MERGING:
        queue_state = "in_batch" if in_run or batch_id is not None else "merging"
    else:
        queue_state = _BY_PHASE[mr.phase]
    values: dict[str, Any] = {
        "target_branch": facts.target_branch,
        "queue_state": queue_state,
        "strikes": mr.strikes,
        "reasons": list(mr.reasons),
        "head_sha": mr.head_sha,
        "recognised_at": mr.recognised_at,
        "rejected_at": None,
    }
    if batch_id is not None:
        values["batch_id"] = batch_id
    elif mr.phase not in (Phase.MERGING, Phase.MERGED):
        values["batch_id"] = None
    if mr.phase == Phase.MERGED:
        values["merged_at"] = row.merged_at if row is not None and row.merged_at else facts.now
    else:
        values["merged_at"] = None
    return values


def _left_values(
    facts: StepFacts, iid: int, outcome: str, row: MergeRequestRecord | None
) -> dict[str, Any]:
    values: dict[str, Any] = {"target_branch": facts.target_branch, "queue_state": outcome}
    if outcome == "rejected":
        if row is None or row.rejected_at is None or row.queue_state != "rejected":
            values["rejected_at"] = facts.now
        for record in facts.events("rejected"):
            if iid in record.iids:
                values["reasons"] = _reason_lines(dict(record.details).get("reasons", ""))
        values["batch_id"] = None
    elif outcome == "merged" and (row is None or row.merged_at is None):
        values["merged_at"] = facts.now
    for record in facts.events("struck"):
        if iid in record.iids and dict(record.details).get("strikes", "").isdigit():
            values["strikes"] = int(dict(record.details)["strikes"])
    return values


def _reason_lines(summary: str) -> list[str]:
    return [line.strip().removeprefix("- ") for line in summary.splitlines() if line.strip()]


def _snapshot_values(facts: StepFacts, iid: int, head_sha: str | None) -> dict[str, Any]:
    """Title, author, links and the head's pipeline, from GitLab's snapshot when there is one."""
    snapshot = next((s for s in facts.observations.merge_requests if s.iid == iid), None)
    values: dict[str, Any] = {}
    if snapshot is not None:
        values.update(
            title=snapshot.title[:512],
            author_username=snapshot.author or None,
            web_url=snapshot.web_url or None,
            source_branch=snapshot.source_branch or None,
        )
        head_sha = head_sha or snapshot.head_sha
    pipeline = facts.pipelines.get(head_sha) if head_sha else None
    if pipeline is not None:
        values.update(pipeline_status=pipeline.status, pipeline_url=pipeline.web_url)
    elif snapshot is not None:
        values.update(pipeline_status=None, pipeline_url=None)
    return values
