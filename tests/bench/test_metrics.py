"""The benchmark's figures from recorded data (bench.metrics)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.metrics import (
    CallCounts,
    MergeRequestRecord,
    PipelineRecord,
    RunRecord,
    figures,
    is_resolved,
    landed_unmerged,
    makespan,
    merged_twice,
    percentile,
    runner_seconds,
    split_calls,
    wrongly_rejected,
)


def mr(
    iid: int,
    state: str = "merged",
    *,
    with_bot: bool = True,
    assigned: float | None = 0.0,
    merged: float | None = None,
    resolved: float | None = None,
) -> MergeRequestRecord:
    if state == "merged":
        merged = 100.0 * iid if merged is None else merged
        resolved = merged if resolved is None else resolved
    return MergeRequestRecord(iid, state, with_bot, assigned, merged, resolved)


def test_resolved_means_merged_closed_or_handed_back_after_arriving() -> None:
    assert is_resolved("merged", with_bot=True)
    assert is_resolved("closed", with_bot=True)
    assert is_resolved("opened", with_bot=False)
    assert not is_resolved("opened", with_bot=True)
    assert not is_resolved("opened", with_bot=False, arrived=False)


def test_rejecting_one_of_a_culprit_pair_is_right() -> None:
    assert wrongly_rejected([6], [(5, 6)]) == 0
    assert wrongly_rejected([5], [(5, 6)]) == 0


def test_rejecting_both_of_a_pair_wrongs_one_and_outsiders_are_all_wrong() -> None:
    assert wrongly_rejected([5, 6], [(5, 6)]) == 1
    assert wrongly_rejected([1, 5, 6, 9], [(5, 6), (8, 9)]) == 2
    assert wrongly_rejected([3], []) == 1


@given(
    rejected=st.sets(st.integers(1, 20)),
    pair_count=st.integers(0, 5),
)
def test_wrongly_rejected_is_between_outsiders_and_all_rejections(
    rejected: set[int], pair_count: int
) -> None:
    pairs = [(2 * k + 1, 2 * k + 2) for k in range(pair_count)]
    in_pairs = {iid for pair in pairs for iid in pair}
    wrong = wrongly_rejected(rejected, pairs)
    assert len(rejected - in_pairs) <= wrong <= len(rejected)
    # at most one rejection per pair is right
    assert wrong >= len(rejected) - pair_count


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 21)], 0.95) == 19.0


def test_runner_seconds_counts_started_pipelines_until_finished_or_the_end() -> None:
    pipelines = [
        PipelineRecord(1, "success", 0.0, 10.0, 310.0),
        PipelineRecord(2, "pending", 5.0, None, None),
        PipelineRecord(3, "running", 50.0, 100.0, None),
    ]
    assert runner_seconds(pipelines, end_s=400.0) == 300.0 + 300.0


def test_calls_are_split_into_api_and_git_after_the_baseline() -> None:
    before = {"GET /api/v4/user": 3, "GET /{path}.git/info/refs": 1}
    after = {
        "GET /api/v4/user": 5,
        "PUT /api/v4/projects/{project_id}/merge_requests/{iid}/merge": 2,
        "GET /{path}.git/info/refs": 4,
        "POST /{path}.git/git-receive-pack": 2,
        "GET /-/health": 1,
    }
    assert split_calls(after, before) == CallCounts(api=4, git=5, other=1)


def test_makespan_waits_for_every_mr() -> None:
    done = [mr(1, merged=100.0), mr(2, "opened", with_bot=False, resolved=250.0)]
    assert makespan(done) == 250.0
    assert makespan([*done, mr(3, "opened")]) is None


def test_landing_twice_and_landing_without_a_merge_are_found() -> None:
    records = [mr(1), mr(2, "opened", with_bot=False, resolved=5.0), mr(3)]
    commits = {1: 2, 2: 1, 3: 1}
    assert merged_twice(commits) == (1,)
    assert landed_unmerged(records, commits) == (2,)


def test_figures_of_a_run() -> None:
    records = (
        mr(1, assigned=0.0, merged=300.0),
        mr(2, assigned=0.0, merged=600.0),
        mr(3, "opened", with_bot=False, resolved=700.0),
        mr(4, assigned=0.0, merged=900.0),
    )
    run = RunRecord(
        merge_requests=records,
        pipelines_after_t0=tuple(
            PipelineRecord(n, "success", 0.0, 300.0 * n, 300.0 * n + 300) for n in range(6)
        ),
        bot_calls=CallCounts(api=90, git=12, other=0),
        pairs=((3, 4),),
        green_main=True,
        commits_adding={1: 1, 2: 1, 3: 0, 4: 1},
        end_s=900.0,
        complete=True,
    )
    result = figures(run)
    assert (result.merged, result.rejected, result.wrongly_rejected) == (3, 1, 0)
    assert result.makespan_s == 900.0
    assert result.merged_per_hour == 12.0
    assert (result.pipelines, result.pipelines_per_merged) == (6, 2.0)
    assert result.runner_seconds == 1800.0
    assert result.api_calls_per_merged == 30.0
    assert result.git_requests == 12
    assert (result.latency_p50_s, result.latency_p95_s) == (600.0, 900.0)
    assert result.merged_twice == ()
    assert result.landed_unmerged == ()


def test_skipped_pipelines_cost_nothing() -> None:
    run = RunRecord(
        merge_requests=(mr(1, assigned=0.0, merged=300.0),),
        pipelines_after_t0=(
            PipelineRecord(1, "success", 0.0, 0.0, 300.0, ref="merge-assist/train/main/1"),
            PipelineRecord(2, "skipped", 300.0, None, 300.0, ref="main"),
        ),
        bot_calls=CallCounts(api=10, git=2, other=0),
        pairs=(),
        green_main=True,
        commits_adding={1: 1},
        end_s=300.0,
        complete=True,
    )
    result = figures(run)
    assert (result.pipelines, result.pipelines_per_merged) == (1, 1.0)
    assert result.runner_seconds == 300.0


def test_an_incomplete_run_has_no_makespan_or_rate() -> None:
    run = RunRecord(
        merge_requests=(mr(1), mr(2, "opened")),
        pipelines_after_t0=(),
        bot_calls=CallCounts(0, 0, 0),
        pairs=(),
        green_main=True,
        commits_adding={1: 1, 2: 0},
        end_s=50.0,
        complete=False,
    )
    result = figures(run)
    assert (result.complete, result.resolved, result.makespan_s) == (False, 1, None)
    assert result.merged_per_hour is None
