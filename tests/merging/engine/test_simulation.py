"""Simulation: ``decide`` drives a small in-memory GitLab until every MR is merged or rejected.

Invariants checked on random queues, in both strategies and both landing modes: good MRs are
merged, bad ones rejected after ``max_rejections`` strikes, the target only ever moves to a
tree that passed CI, no MR lands twice, the loop ends within a bound, and stopping the worker
at any step (state stored as JSON, or actions performed but the new state lost) changes
nothing that matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from merge_assist.merging.engine.actions import PostComment
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import decide
from merge_assist.merging.engine.labels import MR_LABEL_KEYS
from merge_assist.merging.engine.observations import ActionResult
from merge_assist.merging.engine.state import TargetQueueState
from tests.merging.world import TARGET, World

MAX_STEPS = 3000


@dataclass(frozen=True)
class Scenario:
    iids: tuple[int, ...]
    bad: frozenset[int]
    bad_pairs: frozenset[frozenset[int]]
    conflict_pairs: frozenset[frozenset[int]]
    priorities: tuple[tuple[int, int], ...]
    config: EngineConfig
    outsider_at: int | None = None
    flaky: frozenset[frozenset[int]] = frozenset()  # trees whose first pipeline run flakes


@dataclass
class Outcome:
    merged: set[int]
    rejected: set[int]
    target_tree: frozenset[tuple[int, int]]
    steps: int


def run(
    scenario: Scenario, roundtrip_at: int | None = None, crash_at: int | None = None
) -> tuple[Outcome, World]:
    world = World.create(
        list(scenario.iids),
        set(scenario.bad),
        set(scenario.bad_pairs),
        set(scenario.conflict_pairs),
        dict(scenario.priorities),
    )
    world.outsider_at = scenario.outsider_at
    world.flaky = set(scenario.flaky)
    state = TargetQueueState.empty(project_id=1, target_branch=TARGET)
    results: tuple[ActionResult, ...] = ()
    posted: set[str] = set()
    for step in range(MAX_STEPS):
        observations = world.observe(state, results)
        decision = decide(state, observations, scenario.config, world.now())
        assert not [n for n in decision.notes if "internal error" in n], decision.notes
        assert world.violations == []
        if decision.idle:
            # An attempt in flight means the runner looks again after busy_poll_seconds.
            in_flight = any(attempt.active for attempt in decision.state.attempts)
            if not world.busy() and not in_flight:
                return _outcome(world, step), world
            world.tick()
            results = ()
            state = decision.state
            continue
        for action in decision.actions:
            if isinstance(action, PostComment) and crash_at is None:
                assert action.comment_key not in posted, "the same comment twice"
                posted.add(action.comment_key)
        recorded = len(world.history)
        results = world.apply(decision.actions)
        if step == crash_at:
            # Performed, then the worker died before storing the new state. The runner writes
            # history with the state (one transaction), so the step's history is lost too.
            del world.history[recorded:]
            results = ()
            continue
        state = decision.state
        if step == roundtrip_at:
            state = TargetQueueState.from_json(state.to_json())
    raise AssertionError(f"no end after {MAX_STEPS} steps")


def _outcome(world: World, steps: int) -> Outcome:
    rejected = {
        mr.iid
        for mr in world.mrs.values()
        if not mr.is_batch and mr.state == "opened" and not mr.assigned
    }
    return Outcome(world.merged_iids(), rejected, world.tree(world.target), steps)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    iids = tuple(draw(st.lists(st.integers(1, 99), min_size=1, max_size=7, unique=True)))
    pool = list(iids)
    draw(st.randoms(use_true_random=False)).shuffle(pool)
    bad = frozenset(pool[: draw(st.integers(0, min(2, len(pool))))])
    rest = pool[len(bad) :]
    pairs = []
    while len(rest) >= 2 and len(pairs) < 2 and draw(st.booleans()):
        pairs.append(frozenset(rest[:2]))
        rest = rest[2:]
    split = draw(st.integers(0, len(pairs)))
    conflicts = frozenset(pairs[split:])
    bad_pairs = frozenset(pairs[:split])
    config = EngineConfig(
        strategy=draw(st.sampled_from(["single", "batch"])),
        landing=draw(st.sampled_from(["merge_api", "push"])),
        batch_size=draw(st.integers(1, 5)),
        max_rejections=draw(st.integers(1, 3)),
        pipeline_retries=draw(st.integers(0, 2)),
    )
    raised = draw(st.lists(st.sampled_from(iids), max_size=config.batch_size, unique=True))
    priorities = tuple((iid, draw(st.integers(1, 3))) for iid in raised)
    outsider_at = draw(st.none() | st.integers(1, 6))
    return Scenario(iids, bad, bad_pairs, conflicts, priorities, config, outsider_at)


def check(scenario: Scenario, outcome: Outcome, world: World, *, crashed: bool = False) -> None:
    assert world.violations == []
    assert not outcome.merged & outcome.rejected
    assert outcome.merged | outcome.rejected == set(scenario.iids)
    assert not outcome.merged & scenario.bad, "a bad MR was merged"
    assert scenario.bad <= outcome.rejected
    for pair in scenario.bad_pairs:
        assert len(pair & outcome.merged) == 1, f"pair {set(pair)}: exactly one lands"
    troubled = set(scenario.bad).union(*scenario.bad_pairs)
    if scenario.config.max_rejections == 1:
        # A conflict is a strike: with one allowed, the MR that loses the race is rejected.
        for pair in scenario.conflict_pairs:
            assert pair & outcome.merged
        troubled = troubled.union(*scenario.conflict_pairs)
    assert set(scenario.iids) - troubled <= outcome.merged, "a good MR was not merged"
    assert {iid for iid, _ in outcome.target_tree} - {0} == outcome.merged
    assert outcome.steps <= 10 + 12 * len(scenario.iids) * scenario.config.max_rejections
    names = scenario.config.labels
    for iid in outcome.merged:
        assert not {names.name(k) for k in MR_LABEL_KEYS} & world.mrs[iid].labels
    for iid in outcome.rejected:
        ours = {names.name(k) for k in MR_LABEL_KEYS} & world.mrs[iid].labels
        assert ours == {names.rejected}
        strikes = [h for h in world.history if h.event == "struck" and iid in h.iids]
        if not crashed:
            assert len(strikes) == scenario.config.max_rejections
        else:
            # Known gap (docs/merge-engine.md, "Crash safety"): a worker killed after a strike's
            # GitLab actions, before storing the step, loses that step's history (written with
            # the state); the MR may then be struck once more, or its last strike go unrecorded.
            assert abs(len(strikes) - scenario.config.max_rejections) <= 1


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_queue_ends_green_with_good_merged_and_bad_rejected(scenario: Scenario) -> None:
    outcome, world = run(scenario)
    check(scenario, outcome, world)


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.integers(0, 60))
def test_stored_and_reloaded_state_gives_the_same_outcome(scenario: Scenario, at: int) -> None:
    straight, _ = run(scenario)
    resumed, world = run(scenario, roundtrip_at=at)
    check(scenario, resumed, world)
    assert resumed == straight


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.integers(0, 60))
def test_a_worker_killed_after_acting_resumes_without_harm(scenario: Scenario, at: int) -> None:
    outcome, world = run(scenario, crash_at=at)
    check(scenario, outcome, world, crashed=True)
