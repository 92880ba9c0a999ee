"""What a committed step adds to the queue's Prometheus metrics (``kit.metrics``).

The facts are read inside the step's transaction (plain values), and counted only once it has
committed (``observe``): a step whose commit fails counts nothing. History entries are stored
once per key, so a replayed step does not count a merge twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.metrics import (
    MERGE_REQUESTS_MERGED,
    MERGE_REQUESTS_REJECTED,
    PIPELINES_STARTED,
    TIME_TO_MERGE,
)
from merge_assist.merging.engine.actions import Action, RetryPipeline, RunPipeline
from merge_assist.merging.persistence.models import MergeHistoryEntry, MergeRequestRecord

PIPELINE_KINDS: dict[type, str] = {RunPipeline: "run", RetryPipeline: "retry"}


@dataclass(frozen=True)
class StepMetrics:
    """One step's countable facts."""

    strategy: str
    merged_after_seconds: tuple[float, ...]
    merged: int
    rejected: int
    pipelines: tuple[str, ...]


async def step_metrics(
    session: AsyncSession,
    *,
    strategy: str,
    entries: Sequence[MergeHistoryEntry],
    performed: Sequence[Action],
    now: datetime,
) -> StepMetrics:
    """Read what the step merged, rejected and started (inside its transaction)."""
    merged = [iid for entry in entries if entry.event == "merged" for iid in entry.iids]
    waits: list[float] = []
    if merged:
        first = entries[0]
        rows = await session.scalars(
            select(MergeRequestRecord.recognised_at).where(
                MergeRequestRecord.project_id == first.project_id,
                MergeRequestRecord.target_branch == first.target_branch,
                MergeRequestRecord.iid.in_(merged),
            )
        )
        waits = [(now - moment).total_seconds() for moment in rows.all() if moment is not None]
    return StepMetrics(
        strategy=strategy,
        merged_after_seconds=tuple(max(wait, 0.0) for wait in waits),
        merged=len(merged),
        rejected=sum(1 for entry in entries if entry.event == "rejected"),
        pipelines=tuple(
            PIPELINE_KINDS[type(action)] for action in performed if type(action) in PIPELINE_KINDS
        ),
    )


def observe(facts: StepMetrics) -> None:
    """Count a committed step."""
    if facts.merged:
        MERGE_REQUESTS_MERGED.labels(facts.strategy).inc(facts.merged)
    if facts.rejected:
        MERGE_REQUESTS_REJECTED.labels(facts.strategy).inc(facts.rejected)
    for seconds in facts.merged_after_seconds:
        TIME_TO_MERGE.labels(facts.strategy).observe(seconds)
    for kind in facts.pipelines:
        PIPELINES_STARTED.labels(facts.strategy, kind).inc()
