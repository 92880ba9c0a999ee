"""The train on the benchmark's seeded worlds in the in-memory timed world (CI 300 s, four
runners, the MRs arriving as in ``bench/worlds.py``): deterministic figures of the engine, not
the benchmark's (which measures the product against the sandbox, docs/performance.md)."""

from __future__ import annotations

from tests.merging.timed_world import CI_SECONDS, bench_config, run


def test_poisson_seed_one_lands_95_percent_within_three_ci_rounds() -> None:
    result = run("poisson", 1, bench_config())
    assert result.merged == 54  # one MR of each of the six culprit pairs is rejected
    assert result.wrongly_rejected == 0
    assert result.p95 is not None
    assert result.p95 <= 3 * CI_SECONDS
    assert result.pipelines <= 1.5 * result.merged


def test_world_a_seed_one_lands_in_three_ci_rounds() -> None:
    result = run("A", 1, bench_config())
    assert (result.merged, result.wrongly_rejected) == (18, 0)
    assert result.makespan == 3 * CI_SECONDS
    assert result.pipelines <= 1.5 * result.merged


def test_flakes_reject_nobody_in_world_a() -> None:
    result = run("A", 1, bench_config(), flake_rate=0.03)
    assert (result.merged, result.wrongly_rejected) == (18, 0)
