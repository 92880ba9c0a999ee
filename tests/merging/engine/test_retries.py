"""Flakes are not culprits: failed pipelines are retried before anything is struck."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import Decision
from merge_assist.merging.engine.observations import (
    BatchMRResult,
    Pipeline,
    PipelineRetryResult,
    RebaseResult,
)
from merge_assist.merging.engine.state import Phase, TargetQueueState
from tests.merging.engine.factories import (
    TARGET_SHA,
    empty_state,
    observe,
    of_kind,
    pipeline,
    sha,
    snapshot,
    step,
)
from tests.merging.engine.test_batch import build
from tests.merging.engine.test_simulation import Outcome, Scenario, run
from tests.merging.world import World

SINGLE = EngineConfig(strategy="single")  # pipeline_retries 1: the default
NEW = sha("n")


def rebased_and_failed(config: EngineConfig) -> Decision:
    """!1 was behind, is rebased to NEW, and NEW's pipeline (#9) just failed."""
    started = step(empty_state(), observe(snapshot(1, base_sha=sha("b"))), config)
    rebased = RebaseResult(iid=1, status="done", new_sha=NEW)
    waiting = step(started.state, observe(red("running"), results=(rebased,)), config)
    return step(waiting.state, observe(red()), config)


def red(status: str = "failed") -> object:
    return snapshot(1, head_sha=NEW, head_pipeline=pipeline(NEW, status, 9))


def test_a_flaky_pipeline_of_the_mr_tested_alone_is_retried_then_the_mr_lands() -> None:
    failed = rebased_and_failed(SINGLE)
    (retry,) = of_kind(failed, "retry_pipeline")
    assert (retry.pipeline_id, retry.retry, retry.retries_allowed, retry.iids) == (9, 1, 1, (1,))
    assert retry.key == "retry-pipeline:9:1"
    assert (retry.subject, retry.cause) == ("!1", "it failed; a flake is possible")
    assert of_kind(failed, "post_comment") == []
    mr = failed.state.merge_request(1)
    assert (mr.phase, mr.strikes) == (Phase.MERGING, 0)
    result = PipelineRetryResult(pipeline_id=9, sha=NEW, status="retried", retries=1)
    running = step(failed.state, observe(red("running"), results=(result,)), SINGLE)
    assert of_kind(running, "retry_pipeline") == []
    passed = step(running.state, observe(red("success")), SINGLE)
    (merge,) = of_kind(passed, "merge_mr")
    assert merge.sha == NEW
    assert passed.state.merge_request(1).strikes == 0


def test_a_pipeline_failing_again_strikes_as_before() -> None:
    failed = rebased_and_failed(SINGLE)
    result = PipelineRetryResult(pipeline_id=9, sha=NEW, status="retried", retries=1)
    running = step(failed.state, observe(red("running"), results=(result,)), SINGLE)
    again = step(running.state, observe(red()), SINGLE)
    assert of_kind(again, "retry_pipeline") == []
    assert again.state.merge_request(1) is None or again.state.merge_request(1).strikes == 1
    templates = [c.template for c in of_kind(again, "post_comment")]
    assert templates in (["not_ready"], ["rejected"])
    assert [h.event for h in of_kind(again, "record_history")][:1] == ["struck"]


def test_no_retries_configured_strikes_at_once() -> None:
    config = EngineConfig(strategy="single", pipeline_retries=0)
    failed = rebased_and_failed(config)
    assert of_kind(failed, "retry_pipeline") == []
    assert failed.state.merge_request(1).strikes == 1


def test_two_retries_allowed_means_attempt_2_then_3() -> None:
    config = EngineConfig(strategy="single", pipeline_retries=2)
    failed = rebased_and_failed(config)
    (first,) = of_kind(failed, "retry_pipeline")
    result = PipelineRetryResult(pipeline_id=9, sha=NEW, status="retried", retries=1)
    again = step(failed.state, observe(red(), results=(result,)), config)
    (second,) = of_kind(again, "retry_pipeline")
    assert (first.retry, second.retry, second.retries_allowed) == (1, 2, 2)
    assert again.state.merge_request(1).strikes == 0


def test_a_replayed_step_asks_for_the_same_retry_and_gitlabs_count_is_trusted() -> None:
    failed = rebased_and_failed(SINGLE)
    # The worker dies after performing the retry, before storing: the same step is decided
    # again from the previous state, with the same key (the executor will not retry twice).
    before = rebased_and_failed(SINGLE)
    assert of_kind(before, "retry_pipeline") == of_kind(failed, "retry_pipeline")
    # The state with the retry count was lost, but GitLab says the retry already ran.
    stale = failed.state.model_copy(update={"pipeline_retries": ()})
    result = PipelineRetryResult(pipeline_id=9, sha=NEW, status="retried", retries=1)
    after = step(stale, observe(red(), results=(result,)), SINGLE)
    assert of_kind(after, "retry_pipeline") == []
    assert [h.event for h in of_kind(after, "record_history")][:1] == ["struck"]


def test_a_retry_gitlab_refuses_makes_the_failure_final() -> None:
    failed = rebased_and_failed(SINGLE)
    refused = PipelineRetryResult(pipeline_id=9, sha=NEW, status="refused", message="403")
    after = step(failed.state, observe(red(), results=(refused,)), SINGLE)
    assert of_kind(after, "retry_pipeline") == []
    assert [h.event for h in of_kind(after, "record_history")][:1] == ["struck"]


def test_an_mr_whose_own_pipeline_failed_waits_for_its_retry_before_a_strike() -> None:
    own = snapshot(1, head_pipeline=pipeline(sha("h1"), "failed", 7))
    first = step(empty_state(), observe(own), SINGLE)
    (retry,) = of_kind(first, "retry_pipeline")
    assert (retry.pipeline_id, retry.subject) == (7, "!1")
    mr = first.state.merge_request(1)
    assert (mr.phase, mr.strikes) == (Phase.WAITING, 0)
    assert any("is retried (attempt 2 of 2)" in reason for reason in mr.reasons)
    running = snapshot(1, head_pipeline=pipeline(sha("h1"), "running", 7))
    waiting = step(first.state, observe(running), SINGLE)
    assert waiting.state.merge_request(1).phase == Phase.WAITING
    assert any("is retried" in reason for reason in waiting.state.merge_request(1).reasons)
    green = step(
        waiting.state, observe(snapshot(1, head_pipeline=pipeline(sha("h1"), "success", 7))), SINGLE
    )
    assert green.state.merge_request(1).phase == Phase.MERGING
    assert green.state.merge_request(1).strikes == 0


def test_a_failed_merged_results_pipeline_is_retried_once_then_strikes() -> None:
    """Its retry count is kept with the head it tests (``source_sha``), not the merge commit
    it ran on: the second failure strikes instead of asking for another retry."""
    head = sha("h1")

    def merged(status: str) -> object:
        pipeline = Pipeline(id=7, sha=sha("m"), status=status, source_sha=head)
        return snapshot(1, head_sha=head, head_pipeline=pipeline)

    first = step(empty_state(), observe(merged("failed")), SINGLE)
    (retry,) = of_kind(first, "retry_pipeline")
    assert (retry.pipeline_id, retry.sha) == (7, head)
    assert [(r.pipeline_id, r.sha) for r in first.state.pipeline_retries] == [(7, head)]
    result = PipelineRetryResult(pipeline_id=7, sha=head, status="retried", retries=1)
    running = step(first.state, observe(merged("running"), results=(result,)), SINGLE)
    again = step(running.state, observe(merged("failed")), SINGLE)
    assert of_kind(again, "retry_pipeline") == []
    assert again.state.merge_request(1).strikes == 1


def test_a_canceled_pipeline_or_other_failing_reasons_strike_without_a_retry() -> None:
    canceled = snapshot(1, head_pipeline=pipeline(sha("h1"), "canceled", 7))
    assert of_kind(step(empty_state(), observe(canceled), SINGLE), "retry_pipeline") == []
    draft = snapshot(1, draft=True, head_pipeline=pipeline(sha("h1"), "failed", 7))
    decided = step(empty_state(), observe(draft), SINGLE)
    assert of_kind(decided, "retry_pipeline") == []
    assert decided.state.merge_request(1).strikes == 1


def test_a_state_stored_before_retries_existed_still_loads() -> None:
    stored = json.loads(empty_state().to_json())
    del stored["pipeline_retries"]
    state = TargetQueueState.from_json(json.dumps(stored))
    assert state.pipeline_retries == ()
    assert EngineConfig().pipeline_retries == 1


# --- batches --------------------------------------------------------------------------------


def batch_config(size: int, parallel: int = 4) -> EngineConfig:
    return EngineConfig(strategy="batch", landing="push", batch_size=size, parallel_tests=parallel)


def batch_failed(config: EngineConfig) -> tuple[Decision, Pipeline]:
    built = build(step(empty_state(), observe(*MRS), config), config)
    (run,) = of_kind(built, "run_pipeline")
    created = BatchMRResult(attempt_id=run.attempt_id, status="created", iid=77)
    red_batch = Pipeline(id=500, sha=run.sha, status="failed")
    return step(
        built.state, observe(*MRS, results=(created,), pipelines=(red_batch,)), config
    ), red_batch


MRS = (snapshot(1), snapshot(2, priority=1), snapshot(3), snapshot(4))


def test_a_small_batch_is_retried_and_lands_when_the_retry_passes() -> None:
    config = batch_config(size=2)
    failed, red_batch = batch_failed(config)
    (retry,) = of_kind(failed, "retry_pipeline")
    assert (retry.pipeline_id, retry.iids) == (500, (2, 1))
    assert retry.subject.startswith("batch attempt")
    assert failed.state.batch_run is not None
    assert failed.state.batch_run.round_ids == ()
    green = red_batch.model_copy(update={"status": "success"})
    passed = step(failed.state, observe(*MRS, pipelines=(green,)), config)
    (push,) = of_kind(passed, "push_target")
    assert push.sha == red_batch.sha
    assert all(mr.strikes == 0 for mr in passed.state.merge_requests)


def test_a_big_batch_is_not_retried_its_isolation_round_tells_a_flake() -> None:
    config = batch_config(size=4)
    failed, _ = batch_failed(config)
    assert of_kind(failed, "retry_pipeline") == []
    assert len(failed.state.batch_run.round_ids) == 4
    # No retry for the round's trials either: their failures only keep a member suspect.
    trial = failed.state.attempts[0]
    assert trial.plan is not None
    assert trial.plan.omitted is not None


def test_a_member_tried_alone_on_a_new_target_is_retried_before_it_is_struck() -> None:
    config = batch_config(size=1)
    failed, _ = batch_failed(config)
    (retry,) = of_kind(failed, "retry_pipeline")
    assert retry.iids == (2,)
    assert failed.state.merge_request(2).strikes == 0
    assert TARGET_SHA  # the attempt was built on the target


# --- whole queues over the in-memory GitLab ------------------------------------------------


def flaky_queue(
    config: EngineConfig, iids: tuple[int, ...], flaky: frozenset[int]
) -> tuple[Outcome, World]:
    scenario = Scenario(
        iids=iids,
        bad=frozenset(),
        bad_pairs=frozenset(),
        conflict_pairs=frozenset(),
        priorities=(),
        config=config,
        flaky=frozenset({flaky}),
    )
    return run(scenario)


def retried(world: World) -> int:
    return sum(world.retried.values())


def test_an_mr_whose_own_pipeline_flaked_is_merged_not_rejected() -> None:
    config = EngineConfig(strategy="single", max_rejections=1)
    outcome, world = flaky_queue(config, (1, 2), frozenset({1}))
    assert outcome.merged == {1, 2}
    assert outcome.rejected == set()
    assert retried(world) == 1
    assert not [h for h in world.history if h.event == "struck"]


def test_without_retries_the_flake_rejects_the_mr() -> None:
    config = EngineConfig(strategy="single", max_rejections=1, pipeline_retries=0)
    outcome, world = flaky_queue(config, (1, 2), frozenset({1}))
    assert outcome.rejected == {1}
    assert retried(world) == 0


def test_a_small_flaky_batch_is_retried_and_lands_whole() -> None:
    config = EngineConfig(strategy="batch", batch_size=2, landing="push")
    outcome, world = flaky_queue(config, (1, 2), frozenset({1, 2}))
    assert outcome.merged == {1, 2}
    assert retried(world) == 1
    assert not [h for h in world.history if h.event in ("struck", "culprit")]


def test_a_big_flaky_batch_is_not_retried_its_isolation_round_clears_everyone() -> None:
    config = EngineConfig(strategy="batch", batch_size=5, parallel_tests=4, landing="push")
    outcome, world = flaky_queue(config, (1, 2, 3, 4, 5), frozenset({1, 2, 3, 4, 5}))
    assert outcome.merged == {1, 2, 3, 4, 5}
    assert outcome.rejected == set()
    # Every trial passed: one landed (!1-!4), and !5 alone on top of it is the very tree that
    # flaked (flakes go by tree and attempt, as in the sandbox): that lone test is retried.
    assert retried(world) == 1
    assert not [h for h in world.history if h.event in ("struck", "culprit")]


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_in_single_a_flake_never_rejects_a_good_mr(data: st.DataObject) -> None:
    """Any trees may flake on their first run: every good MR lands, every bad one is out."""
    iids = tuple(data.draw(st.lists(st.integers(1, 30), min_size=1, max_size=6, unique=True)))
    bad = frozenset(data.draw(st.lists(st.sampled_from(iids), max_size=2, unique=True)))
    trees = st.frozensets(st.sampled_from(iids), min_size=1, max_size=4)
    flaky = frozenset(data.draw(st.sets(trees, max_size=6)))
    config = EngineConfig(strategy="single", max_rejections=1)
    scenario = Scenario(iids, bad, frozenset(), frozenset(), (), config, flaky=flaky)
    outcome, world = run(scenario)
    assert world.violations == []
    assert outcome.merged == set(iids) - bad
    assert outcome.rejected == bad
