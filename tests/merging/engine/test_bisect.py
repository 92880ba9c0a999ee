"""The bisection planner: finds culprits (alone or in pairs) and never lands a failed set."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from merge_assist.merging.engine import bisect
from merge_assist.merging.engine.bisect import BisectState, Culprit, Trial, TrialOutcome

Oracle = Callable[[tuple[int, ...]], bool]  # True: the tree of these MRs on the base passes


@dataclass
class Run:
    state: BisectState
    tests: list[tuple[tuple[int, ...], bool]] = field(default_factory=list)
    landings: list[tuple[int, ...]] = field(default_factory=list)


def drive(members: tuple[int, ...], oracle: Oracle, prefix_results: bool = False) -> Run:
    """Run the planner to the end against ``oracle``; record every test and landing."""
    run = Run(state=bisect.start(members))
    limit = 10 * (len(members) + 1) ** 2
    for _ in range(limit):
        plan = bisect.next_test(run.state)
        if plan is None:
            return run
        outcome = _test(run, plan, oracle, prefix_results)
        before = run.state.landed
        run.state = bisect.record(run.state, plan, outcome)
        if run.state.landed != before:
            run.landings.append(run.state.landed)
    raise AssertionError("the planner did not finish")


def _test(run: Run, plan: Trial, oracle: Oracle, prefix_results: bool) -> TrialOutcome:
    base = () if plan.probe else run.state.landed
    tested = (*base, *plan.members)
    passed = oracle(tested)
    run.tests.append((tested, passed))
    if passed:
        return TrialOutcome(passed_prefix=len(plan.members), failed=False)
    if not prefix_results or plan.probe:
        return TrialOutcome(passed_prefix=0, failed=True)
    # merge trains know each prefix: the longest one that passes
    prefix = 0
    while prefix < len(plan.members) - 1:
        candidate = (*base, *plan.members[: prefix + 1])
        ok = oracle(candidate)
        run.tests.append((candidate, ok))
        if not ok:
            break
        prefix += 1
    return TrialOutcome(passed_prefix=prefix, failed=True)


def breaks(solo: set[int], pairs: set[frozenset[int]]) -> Oracle:
    def oracle(tree: tuple[int, ...]) -> bool:
        present = set(tree)
        return not (present & solo) and not any(pair <= present for pair in pairs)

    return oracle


def greedy(members: tuple[int, ...], oracle: Oracle) -> tuple[tuple[int, ...], list[int]]:
    """The reference: add members one by one, keep each that keeps the tree green."""
    accepted: tuple[int, ...] = ()
    culprits = []
    for member in members:
        if oracle((*accepted, member)):
            accepted = (*accepted, member)
        else:
            culprits.append(member)
    return accepted, culprits


def assert_safe(run: Run, members: tuple[int, ...]) -> None:
    """Every landing is a set that was just tested green; every member is accounted for."""
    passed_sets = {tested for tested, ok in run.tests if ok}
    for landed in run.landings:
        assert landed in passed_sets, f"landed {landed} without a green test of exactly it"
    culprits = [c.iid for c in run.state.culprits]
    assert sorted((*run.state.landed, *culprits)) == sorted(members)
    assert not set(run.state.landed) & set(culprits)
    assert run.state.pending == ()


def test_a_green_batch_lands_in_one_test() -> None:
    run = drive((1, 2, 3, 4, 5), breaks(set(), set()))
    assert run.state.landed == (1, 2, 3, 4, 5)
    assert run.state.culprits == ()
    assert len(run.tests) == 1


def test_one_culprit_is_found_and_the_rest_lands() -> None:
    run = drive((1, 2, 3, 4, 5), breaks({4}, set()))
    assert run.state.culprits == (Culprit(iid=4),)
    assert run.state.landed == (1, 2, 3, 5)
    assert_safe(run, (1, 2, 3, 4, 5))


def test_a_pair_failing_only_together_is_reported_as_a_pair() -> None:
    run = drive((1, 2, 3, 4), breaks(set(), {frozenset({2, 4})}))
    assert run.state.culprits == (Culprit(iid=4, partners=(2,)),)
    assert run.state.landed == (1, 2, 3)


def test_first_test_is_the_whole_batch_then_halves() -> None:
    state = bisect.start((1, 2, 3, 4))
    assert bisect.next_test(state) == Trial(members=(1, 2, 3, 4))
    state = bisect.record(
        state, Trial(members=(1, 2, 3, 4)), TrialOutcome(passed_prefix=0, failed=True)
    )
    assert bisect.next_test(state) == Trial(members=(1, 2))


def test_a_stale_plan_is_ignored() -> None:
    state = bisect.start((1, 2))
    assert (
        bisect.record(state, Trial(members=(2,)), TrialOutcome(passed_prefix=1, failed=False))
        == state
    )


def test_dropping_a_member_forgets_what_its_set_taught() -> None:
    state = bisect.start((1, 2, 3, 4))
    state = bisect.record(
        state, Trial(members=(1, 2, 3, 4)), TrialOutcome(passed_prefix=0, failed=True)
    )
    state = bisect.drop(state, 2)
    assert state.pending == (1, 3, 4)
    assert bisect.next_test(state) == Trial(members=(1, 3, 4))
    assert bisect.drop(state, 99) == state


def test_dropping_the_suspect_ends_its_partner_search() -> None:
    run = Run(state=bisect.start((1, 2)))
    state = bisect.record(
        run.state, Trial(members=(1, 2)), TrialOutcome(passed_prefix=1, failed=True)
    )
    assert state.search is not None
    state = bisect.drop(state, 2)
    assert state.search is None
    assert bisect.is_done(state)


members_strategy = st.lists(st.integers(1, 60), min_size=1, max_size=12, unique=True).map(tuple)


@st.composite
def monotone_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], set[int], set[frozenset[int]]]:
    members = draw(members_strategy)
    solo = set(draw(st.lists(st.sampled_from(members), max_size=3)))
    pairs: set[frozenset[int]] = set()
    if len(members) >= 2:
        for _ in range(draw(st.integers(0, 2))):
            pair = draw(st.lists(st.sampled_from(members), min_size=2, max_size=2, unique=True))
            pairs.add(frozenset(pair))
    return members, solo, pairs


@settings(max_examples=300, deadline=None)
@given(monotone_cases(), st.booleans())
def test_culprits_are_found_exactly_as_one_by_one_testing_would(
    case: tuple[tuple[int, ...], set[int], set[frozenset[int]]], prefix_results: bool
) -> None:
    members, solo, pairs = case
    oracle = breaks(solo, pairs)
    run = drive(members, oracle, prefix_results)
    assert_safe(run, members)
    accepted, culprits = greedy(members, oracle)
    assert run.state.landed == accepted
    assert [c.iid for c in run.state.culprits] == culprits
    for culprit in run.state.culprits:
        if culprit.iid in solo:
            assert culprit.partners == ()
        else:
            (partner,) = culprit.partners
            assert frozenset({partner, culprit.iid}) in pairs
            assert partner in accepted
    n = len(members)
    bound = (len(culprits) + 1) * (2 * math.ceil(math.log2(n + 1)) + 3)
    if not prefix_results:
        assert len(run.tests) <= bound


@settings(max_examples=300, deadline=None)
@given(members_strategy, st.randoms(use_true_random=False))
def test_any_oracle_even_flaky_never_lands_an_untested_set(members: tuple[int, ...], rng) -> None:
    # Each call answers at random: results contradict each other (flaky CI).
    run = drive(members, lambda tree: rng.random() < 0.6)
    assert_safe(run, members)
    for culprit in run.state.culprits:
        assert culprit.iid in members


def drive_side_by_side(members: tuple[int, ...], oracle: Oracle, width: int) -> Run:
    """Run the planner with rounds of up to ``width`` trials side by side, as the batch
    strategy does: a round's results are recorded together, and the trial it picks lands."""
    run = Run(state=bisect.start(members))
    for _ in range(10 * (len(members) + 1) ** 2):
        plans = bisect.next_tests(run.state, width)
        if not plans:
            return run
        if not plans[0].side_by_side:
            (plan,) = plans
            before = run.state.landed
            run.state = bisect.record(run.state, plan, _test(run, plan, oracle, False))
            run.state = bisect.without_partner_search(run.state)  # as the batch strategy does
            if run.state.landed != before:
                run.landings.append(run.state.landed)
            continue
        assert len(plans) <= width
        outcomes = [(plan, oracle((*run.state.landed, *plan.members))) for plan in plans]
        run.tests += [((*run.state.landed, *plan.members), ok) for plan, ok in outcomes]
        if plans[0].omitted is not None:
            results = tuple((plan.omitted or 0, ok) for plan, ok in outcomes)
            run.state, landing = bisect.record_isolation(run.state, results)
        else:
            lengths = tuple((len(plan.members), ok) for plan, ok in outcomes)
            run.state, landing = bisect.record_prefixes(run.state, lengths)
        if landing is not None:
            run.state = bisect.record_side_landed(run.state, landing)
            run.landings.append(run.state.landed)
    raise AssertionError("the planner did not finish")


def test_one_culprit_is_isolated_in_one_round_beside_the_first_test() -> None:
    run = drive_side_by_side((1, 2, 3, 4, 5), breaks({4}, set()), width=5)
    assert run.state.culprits == (Culprit(iid=4),)
    assert run.state.landed == (1, 2, 3, 5)
    assert len(run.tests) == 1 + 5  # the batch, then one round of leave-one-out trials
    assert_safe(run, (1, 2, 3, 4, 5))


def test_a_pair_in_one_batch_is_named_by_its_two_passing_omissions() -> None:
    run = drive_side_by_side((1, 2, 3, 4), breaks(set(), {frozenset({2, 4})}), width=4)
    assert run.state.culprits == (Culprit(iid=4, partners=(2,)),)
    assert run.state.landed == (1, 2, 3)


def test_two_culprits_go_to_a_prefix_round() -> None:
    run = drive_side_by_side((1, 2, 3, 4, 5), breaks({2, 4}, set()), width=4)
    assert sorted(c.iid for c in run.state.culprits) == [2, 4]
    assert sorted(run.state.landed) == [1, 3, 5]
    assert_safe(run, (1, 2, 3, 4, 5))


def test_prefix_results_shrink_the_failing_set_to_the_untested_gap() -> None:
    state = BisectState(pending=(1, 2, 3, 4, 5, 6), known_failing=6)
    state = state.model_copy(update={"isolation": bisect.Isolation(exhausted=True)})
    after, landing = bisect.record_prefixes(state, ((1, True), (4, False)))
    assert landing == Trial(members=(1,), prefix=True)
    assert after.culprits == ()
    assert after.known_failing == 3  # 2, 3, 4 on top of 1: one of them breaks it
    landed = bisect.record_side_landed(after, landing)
    assert (landed.landed, landed.pending, landed.known_failing) == ((1,), (2, 3, 4, 5, 6), 3)


@settings(max_examples=200, deadline=None)
@given(monotone_cases(), st.integers(min_value=2, max_value=6))
def test_side_by_side_rounds_land_only_tested_sets_and_every_good_member(
    case: tuple[tuple[int, ...], set[int], set[frozenset[int]]], width: int
) -> None:
    members, solo, pairs = case
    oracle = breaks(solo, pairs)
    run = drive_side_by_side(members, oracle, width)
    assert_safe(run, members)
    assert oracle(run.state.landed)  # the target ends green
    for culprit in run.state.culprits:  # each one breaks what landed before it, or alone
        assert culprit.iid in solo or any(culprit.iid in pair for pair in pairs)
    # No innocent member is struck: with solo culprits and pairs, every member outside
    # them lands, and of each pair at least one lands unless a member is also a solo culprit.
    innocent = set(members) - solo - {iid for pair in pairs for iid in pair}
    assert innocent <= set(run.state.landed)


@settings(max_examples=200, deadline=None)
@given(members_strategy, st.randoms(use_true_random=False), st.integers(2, 5))
def test_side_by_side_rounds_even_flaky_never_land_an_untested_set(
    members: tuple[int, ...], rng, width: int
) -> None:
    run = drive_side_by_side(members, lambda tree: rng.random() < 0.6, width)
    assert_safe(run, members)


def test_side_by_side_a_suspect_is_a_culprit_at_once_without_partner_probes() -> None:
    state = BisectState(pending=(3,), landed=(1, 2))
    state = bisect.record(state, Trial(members=(3,)), TrialOutcome(passed_prefix=0, failed=True))
    assert state.search is not None  # one test at a time would now probe for the partner
    concluded = bisect.without_partner_search(state)
    assert concluded.culprits == (Culprit(iid=3),)
    assert (concluded.pending, concluded.search) == ((), None)
    assert bisect.next_tests(concluded, 4) == ()
