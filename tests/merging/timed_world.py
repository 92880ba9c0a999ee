"""The in-memory world with time: CI that takes a while, a few runners, MRs that arrive.

``world.World`` finishes every pipeline at the next tick, which counts CI rounds but not
latencies. ``TimedWorld`` ticks ``TICK_SECONDS`` of simulated time: a pipeline needs
``CI_SECONDS`` of a runner, at most ``RUNNERS`` run at once (the others wait, oldest first),
and each MR is assigned to the bot at its arrival in the benchmark's seeded world
(``bench/worlds.py``: the same culprit pairs and arrival times). It drives the real engine
(``decide``) like the simulation tests, in well under a second per world, so train policies
can be compared over many seeds before the benchmark measures one against the sandbox:

    uv run python -m tests.merging.timed_world --world poisson --seeds 30

The MRs' own pipelines passed before the run (as in the benchmark). A tree fails when it
holds both MRs of a culprit pair; ``flake_rate`` fails a pipeline's first run at random.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
from dataclasses import dataclass, field

from bench.metrics import percentile
from bench.worlds import STANDARD, generate
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import ActionResult, Pipeline
from tests.merging.world import World

TICK_SECONDS = 30
CI_SECONDS = 300
RUNNERS = 4


@dataclass
class TimedWorld(World):
    """A simulation world whose pipelines take ``CI_SECONDS`` on one of ``RUNNERS``."""

    remaining: dict[int, int] = field(default_factory=dict)  # pipeline id -> ticks of work
    arrivals: dict[int, list[int]] = field(default_factory=dict)  # tick -> iids assigned
    merged_at: dict[int, int] = field(default_factory=dict)  # iid -> tick
    flake_rate: float = 0.0
    chooser: random.Random = field(default_factory=lambda: random.Random(0))
    judged: set[int] = field(default_factory=set)  # pipelines whose first run is over
    events: list[tuple[int, str, tuple[int, ...]]] = field(default_factory=list)

    def _pipeline(self, sha: str, ref: str) -> Pipeline:
        pipeline = super()._pipeline(sha, ref)
        if ref.startswith("feature/"):  # the MR's own pipeline passed before the run
            passed = pipeline.model_copy(update={"status": "success"})
            self.pipelines[-1] = passed
            return passed
        self.remaining[pipeline.id] = CI_SECONDS // TICK_SECONDS
        return pipeline

    def _retry(self, action: act.RetryPipeline) -> ActionResult:
        result = super()._retry(action)
        self.remaining[action.pipeline_id] = CI_SECONDS // TICK_SECONDS
        return result

    def _apply(self, action: act.Action) -> ActionResult | None:
        new = isinstance(action, act.RecordHistory) and all(
            h.record_key != action.record_key for h in self.history
        )
        if new and isinstance(action, act.RecordHistory):  # (for a story of each MR)
            self.events.append((self.clock * TICK_SECONDS, action.event, action.iids))
        return super()._apply(action)

    def _verdict(self, pipeline: Pipeline) -> str:
        first_run = pipeline.id not in self.judged
        self.judged.add(pipeline.id)
        if first_run and self.flake_rate and self.chooser.random() < self.flake_rate:
            return "failed"
        return "success" if self.passes(self.tree(pipeline.sha)) else "failed"

    def tick(self) -> None:
        self.clock += 1
        running = [p for p in self.pipelines if p.status == "running" and p.id in self.remaining]
        for pipeline in running[:RUNNERS]:
            self.remaining[pipeline.id] -= 1
        done = {p.id for p in running if self.remaining[p.id] <= 0}
        self.pipelines = [
            p.model_copy(update={"status": self._verdict(p)}) if p.id in done else p
            for p in self.pipelines
        ]
        for iid in self.arrivals.get(self.clock, ()):
            self.mrs[iid].assigned = True

    def busy(self) -> bool:
        return super().busy() or any(at > self.clock for at in self.arrivals)

    def note_merges(self) -> None:
        for mr in self.mrs.values():
            if mr.state == "merged" and not mr.is_batch and mr.iid not in self.merged_at:
                self.merged_at[mr.iid] = self.clock


@dataclass(frozen=True)
class TimedRun:
    """What a timed world's run came to (seconds are simulated)."""

    merged: int
    wrongly_rejected: int
    pipelines: int
    latencies: tuple[int, ...]
    makespan: int
    world: TimedWorld

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies, 0.95)

    @property
    def per_hour(self) -> float:
        return self.merged * 3600 / self.makespan if self.makespan else 0.0


def run(name: str, seed: int, cfg: EngineConfig, *, flake_rate: float = 0.0) -> TimedRun:
    """Drive the engine on the seeded benchmark world ``name`` until every MR is settled."""
    from tests.merging.engine.test_train import Driver  # the simulation tests' driver

    parameters = dataclasses.replace(STANDARD[name], seed=seed)
    seeded = generate(parameters)
    iids = list(range(1, parameters.merge_requests + 1))
    pairs = {frozenset((pair.first, pair.second)) for pair in seeded.pairs}
    world = TimedWorld.create(iids, set(), pairs, set())
    assert isinstance(world, TimedWorld)
    world.flake_rate = flake_rate
    world.chooser = random.Random(f"flakes:{seed}")
    arrived = {}
    for iid, offset in zip(iids, seeded.arrivals, strict=True):
        arrived[iid] = math.ceil(offset / TICK_SECONDS)
        if arrived[iid] > 0:
            world.mrs[iid].assigned = False
            world.arrivals.setdefault(arrived[iid], []).append(iid)
    driver = Driver(world, cfg)
    for _ in range(500_000):
        driver.step()
        world.note_merges()
        if driver.settled:
            if not any(at > world.clock for at in world.arrivals):
                break
            world.tick()
            driver.results = ()
    else:
        raise AssertionError("the timed world never settled")
    rejected = set(iids) - set(world.merged_at)
    in_pairs = {iid for pair in pairs for iid in pair}
    wrong = len(rejected - in_pairs) + sum(2 for pair in pairs if pair <= rejected)
    return TimedRun(
        merged=len(world.merged_at),
        wrongly_rejected=wrong,
        pipelines=len(world.remaining),
        latencies=tuple(
            (at - arrived[iid]) * TICK_SECONDS for iid, at in sorted(world.merged_at.items())
        ),
        makespan=max(world.merged_at.values(), default=0) * TICK_SECONDS,
        world=world,
    )


def bench_config(**changes: object) -> EngineConfig:
    """The benchmark's train contender (``ma-train-skipci``: cars of 5, depth 4, landings
    through the merge API with ``[skip ci]``)."""
    values: dict[str, object] = {
        "strategy": "train",
        "landing": "merge_api",
        "skip_ci_on_landing": True,
        "batch_size": 5,
        "train_depth": 4,
        "pipeline_retries": 1,
        "max_rejections": 1,
        "parallel_tests": 4,
    }
    values.update(changes)
    return EngineConfig.model_validate(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="poisson", choices=sorted(STANDARD))
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--flake-rate", type=float, default=0.0)
    options = parser.parse_args()
    runs = [
        run(options.world, seed, bench_config(), flake_rate=options.flake_rate)
        for seed in range(1, options.seeds + 1)
    ]
    for seed, result in enumerate(runs, start=1):
        print(
            f"seed {seed:3d}: merged {result.merged}, wrongly rejected "
            f"{result.wrongly_rejected}, p95 {result.p95} s, {result.per_hour:.1f}/h, "
            f"{result.pipelines} pipelines"
        )
    p95s = [r.p95 or 0.0 for r in runs]
    print(
        f"mean p95 {sum(p95s) / len(p95s):.0f} s, over 900 s in {sum(p > 900 for p in p95s)}"
        f" of {len(runs)}; mean {sum(r.per_hour for r in runs) / len(runs):.1f} merged/h; "
        f"wrongly rejected {sum(r.wrongly_rejected for r in runs)}"
    )


if __name__ == "__main__":
    main()
