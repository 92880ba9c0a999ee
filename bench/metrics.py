"""The benchmark's figures, computed from what the sandbox recorded (pure, no I/O).

``bench.observe`` fetches the data; everything here is arithmetic over it. Times are simulated
seconds after t0 (the moment the harness starts assigning MRs to the bot).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

MERGED = "merged"
CLOSED = "closed"


@dataclass(frozen=True)
class MergeRequestRecord:
    """One MR at the end of a run."""

    iid: int
    state: str  # GitLab's: opened | merged | closed
    with_bot: bool  # the bot is still an assignee or a reviewer
    assigned_s: float | None  # when the harness assigned it to the bot (None: not yet)
    merged_s: float | None  # GitLab's merged_at
    resolved_s: float | None  # when the harness first saw it resolved (merged_s for merges)

    @property
    def resolved(self) -> bool:
        return is_resolved(self.state, self.with_bot, arrived=self.assigned_s is not None)

    @property
    def rejected(self) -> bool:
        """Resolved without being merged: handed back (bot unassigned) or closed."""
        return self.resolved and self.state != MERGED


@dataclass(frozen=True)
class PipelineRecord:
    """One pipeline of the sandbox (times in simulated seconds after t0)."""

    id: int
    status: str
    created_s: float
    started_s: float | None
    finished_s: float | None
    ref: str = ""  # the branch it ran on (the target's own pipelines run after each landing)


@dataclass(frozen=True)
class CallCounts:
    """Calls made with the bot's token: GitLab REST API, git smart HTTP, anything else."""

    api: int
    git: int
    other: int


@dataclass(frozen=True)
class RunRecord:
    """Everything a run's figures are computed from."""

    merge_requests: tuple[MergeRequestRecord, ...]
    pipelines_after_t0: tuple[PipelineRecord, ...]
    bot_calls: CallCounts
    pairs: tuple[tuple[int, int], ...]
    green_main: bool
    commits_adding: Mapping[int, int]  # iid -> commits on the target that add the MR's file
    end_s: float  # simulated seconds from t0 to the end of observation
    complete: bool  # every MR resolved before the real-time limit


@dataclass(frozen=True)
class Figures:
    """The row of the results table for one run."""

    complete: bool
    merge_requests: int
    resolved: int
    makespan_s: float | None
    merged: int
    rejected: int
    wrongly_rejected: int
    merged_per_hour: float | None
    pipelines: int
    pipelines_per_merged: float | None
    runner_seconds: float
    runner_seconds_per_merged: float | None
    api_calls: int
    api_calls_per_merged: float | None
    git_requests: int
    latency_p50_s: float | None
    latency_p95_s: float | None
    green_main: bool
    merged_twice: tuple[int, ...]
    landed_unmerged: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_resolved(state: str, with_bot: bool, *, arrived: bool = True) -> bool:
    """Merged, closed, or no longer assigned to (nor reviewed by) the bot after it arrived."""
    return arrived and (state in (MERGED, CLOSED) or not with_bot)


def wrongly_rejected(rejected: Iterable[int], pairs: Iterable[tuple[int, int]]) -> int:
    """Rejections that were not needed: any MR outside a culprit pair, and one of a pair whose
    two MRs were both rejected (one of them alone would have kept CI green)."""
    rejected_set = set(rejected)
    in_pairs: set[int] = set()
    wrong = 0
    for first, second in pairs:
        in_pairs.update((first, second))
        if first in rejected_set and second in rejected_set:
            wrong += 1
    return wrong + len(rejected_set - in_pairs)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def ran(pipelines: Iterable[PipelineRecord]) -> tuple[PipelineRecord, ...]:
    """The pipelines that cost CI: all but the skipped ones (``[skip ci]``, ``-o ci.skip``:
    GitLab records them and runs no job)."""
    return tuple(p for p in pipelines if p.status != "skipped")


def runner_seconds(pipelines: Iterable[PipelineRecord], end_s: float) -> float:
    """Seconds of runner time: each started pipeline from its start to its finish (or the end)."""
    total = 0.0
    for pipeline in pipelines:
        if pipeline.started_s is None:
            continue
        finished = pipeline.finished_s if pipeline.finished_s is not None else end_s
        total += max(0.0, finished - pipeline.started_s)
    return total


def split_calls(after: Mapping[str, int], before: Mapping[str, int]) -> CallCounts:
    """Calls per endpoint made between the two snapshots, split into REST API and git."""
    api = git = other = 0
    for endpoint, count in after.items():
        made = count - before.get(endpoint, 0)
        path = endpoint.partition(" ")[2]
        if path.startswith("/api/v4/"):
            api += made
        elif ".git/" in path:
            git += made
        else:
            other += made
    return CallCounts(api=api, git=git, other=other)


def makespan(records: Iterable[MergeRequestRecord]) -> float | None:
    """Simulated seconds from t0 until the last MR was resolved; None while one is not."""
    times = []
    for record in records:
        if not record.resolved or record.resolved_s is None:
            return None
        times.append(record.resolved_s)
    return max(times, default=0.0)


def merged_twice(commits_adding: Mapping[int, int]) -> tuple[int, ...]:
    """MRs whose file was added by more than one commit on the target (landed twice)."""
    return tuple(sorted(iid for iid, count in commits_adding.items() if count > 1))


def landed_unmerged(
    records: Iterable[MergeRequestRecord], commits_adding: Mapping[int, int]
) -> tuple[int, ...]:
    """MRs whose change is on the target although GitLab does not show them merged."""
    return tuple(
        sorted(r.iid for r in records if r.state != MERGED and commits_adding.get(r.iid, 0) > 0)
    )


def _per(total: float, merged: int) -> float | None:
    return round(total / merged, 2) if merged else None


def figures(run: RunRecord) -> Figures:
    """The figures of one run."""
    records = run.merge_requests
    merged = [r for r in records if r.state == MERGED]
    rejected = [r.iid for r in records if r.rejected]
    span = makespan(records)
    latencies = [
        r.merged_s - r.assigned_s
        for r in merged
        if r.merged_s is not None and r.assigned_s is not None
    ]
    runner = runner_seconds(run.pipelines_after_t0, run.end_s)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    return Figures(
        complete=run.complete,
        merge_requests=len(records),
        resolved=sum(1 for r in records if r.resolved),
        makespan_s=round(span, 1) if span is not None else None,
        merged=len(merged),
        rejected=len(rejected),
        wrongly_rejected=wrongly_rejected(rejected, run.pairs),
        merged_per_hour=round(len(merged) * 3600 / span, 2) if span else None,
        pipelines=len(ran(run.pipelines_after_t0)),
        pipelines_per_merged=_per(len(ran(run.pipelines_after_t0)), len(merged)),
        runner_seconds=round(runner, 1),
        runner_seconds_per_merged=_per(runner, len(merged)),
        api_calls=run.bot_calls.api,
        api_calls_per_merged=_per(run.bot_calls.api, len(merged)),
        git_requests=run.bot_calls.git,
        latency_p50_s=round(p50, 1) if p50 is not None else None,
        latency_p95_s=round(p95, 1) if p95 is not None else None,
        green_main=run.green_main,
        merged_twice=merged_twice(run.commits_adding),
        landed_unmerged=landed_unmerged(records, run.commits_adding),
    )
