"""The modelled GitLab merge train (bench.train_model)."""

from __future__ import annotations

from bench.train_model import model_train, modelled_figures
from bench.worlds import WorldParameters, generate, standard_world


def world(count: int, pairs: int, **changes: object) -> WorldParameters:
    return WorldParameters(name="t", merge_requests=count, culprit_pairs=pairs, **changes)  # type: ignore[arg-type]


def test_without_culprits_cars_merge_in_waves_of_the_depth() -> None:
    result = modelled_figures(generate(world(8, 0, ci_seconds=100.0)), depth=4)
    assert (result.merged, result.rejected, result.pipelines) == (8, 0, 8)
    assert result.makespan_s == 200.0


def test_the_later_car_of_a_pair_is_dropped_and_the_cars_behind_restart() -> None:
    w = generate(world(6, 1, ci_seconds=100.0, seed=3))
    (pair,) = w.pairs
    record = model_train(w, depth=6)
    rejected = [mr.iid for mr in record.merge_requests if mr.rejected]
    assert rejected == [pair.second]
    behind = len([iid for iid in w.iids if iid > pair.second])
    assert len(record.pipelines_after_t0) == 6 + behind
    result = modelled_figures(w, depth=6)
    assert result.wrongly_rejected == 0
    assert result.green_main


def test_world_a_is_resolved_with_one_rejection_per_pair() -> None:
    result = modelled_figures(standard_world("A"))
    assert (result.merged, result.rejected, result.wrongly_rejected) == (18, 2, 0)
    assert result.complete
    assert result.makespan_s is not None


def test_poisson_arrivals_are_modelled_too() -> None:
    result = modelled_figures(standard_world("poisson"))
    assert result.resolved == 60
    assert result.wrongly_rejected == 0
