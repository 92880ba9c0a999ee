"""Benchmark worlds are seeded, valid scenarios with the ground truth they claim."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.worlds import (
    STANDARD,
    WorldParameters,
    generate,
    mr_file,
    standard_world,
)
from gitlab_sandbox.scenario import load_scenario


def files_of(world_scenario: dict[str, object], iid: int) -> dict[str, str]:
    project = world_scenario["projects"][0]  # type: ignore[index]
    files: dict[str, str] = project["merge_requests"][iid - 1]["files"]
    return files


def test_world_a_has_twenty_mrs_two_pairs_and_fixed_ci() -> None:
    world = standard_world("A")
    assert world.iids == tuple(range(1, 21))
    assert len(world.pairs) == 2
    ci = world.scenario["ci"]
    assert ci["duration_seconds"] == [300.0, 300.0]
    assert ci["runner_capacity"] == 4
    assert ci["fail_together"] == [["PAIR-1-A", "PAIR-1-B"], ["PAIR-2-A", "PAIR-2-B"]]
    assert world.arrivals == (0.0,) * 20
    settings_ = world.scenario["projects"][0]["settings"]
    assert settings_ == {
        "merge_method": "merge",
        "only_allow_merge_if_pipeline_succeeds": True,
        "approvals_before_merge": 0,
    }
    assert standard_world("A-ff").scenario["projects"][0]["settings"]["merge_method"] == "ff"


def test_same_seed_same_world_other_seed_other_pairs() -> None:
    assert standard_world("A") == standard_world("A")
    assert (
        standard_world("A").pairs == standard_world("A-ff").pairs == standard_world("A-flaky").pairs
    )
    pairs = {standard_world("A", seed=seed).pairs for seed in range(5)}
    assert len(pairs) > 1


@settings(max_examples=50)
@given(
    count=st.integers(2, 40),
    share=st.floats(0, 1),
    seed=st.integers(0, 1000),
    poisson=st.booleans(),
)
def test_every_mr_edits_its_own_file_and_pairs_carry_their_markers(
    count: int, share: float, seed: int, poisson: bool
) -> None:
    pairs = int(share * count) // 2
    world = generate(
        WorldParameters(
            name="w",
            merge_requests=count,
            culprit_pairs=pairs,
            seed=seed,
            arrivals_per_hour=30.0 if poisson else None,
        )
    )
    in_pairs = [iid for pair in world.pairs for iid in (pair.first, pair.second)]
    assert len(in_pairs) == len(set(in_pairs)) == 2 * pairs
    for iid in world.iids:
        files = files_of(world.scenario, iid)
        assert list(files) == [mr_file(iid)]
    for number, pair in enumerate(world.pairs, start=1):
        assert pair.first < pair.second
        assert f"PAIR-{number}-A" in files_of(world.scenario, pair.first)[mr_file(pair.first)]
        assert f"PAIR-{number}-B" in files_of(world.scenario, pair.second)[mr_file(pair.second)]
    assert list(world.arrivals) == sorted(world.arrivals)
    assert world.arrivals[0] == 0.0


def test_poisson_arrivals_come_at_about_the_rate() -> None:
    world = standard_world("poisson")
    assert len(world.arrivals) == 60
    hours = world.arrivals[-1] / 3600
    assert 1.0 < hours < 3.0  # 59 gaps of 2 minutes on average


def test_the_idle_world_spaces_its_arrivals_evenly() -> None:
    world = standard_world("idle")
    assert world.arrivals == (0.0, 600.0, 1200.0, 1800.0)
    assert world.pairs == ()


@pytest.mark.parametrize("name", list(STANDARD))
def test_standard_worlds_are_scenarios_the_sandbox_accepts(name: str) -> None:
    load_scenario(standard_world(name).scenario)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="two merge requests"):
        WorldParameters(name="x", merge_requests=3, culprit_pairs=2)
    with pytest.raises(ValueError, match="merge_method"):
        WorldParameters(name="x", merge_requests=3, culprit_pairs=0, merge_method="rebase")
    with pytest.raises(ValueError, match="arrival_interval_seconds"):
        WorldParameters(name="x", merge_requests=3, culprit_pairs=0, arrival_interval_seconds=0)
    with pytest.raises(ValueError, match="unknown world"):
        standard_world("Z")
