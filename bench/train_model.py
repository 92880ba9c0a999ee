"""A pure model of GitLab merge trains on a world's ground truth (reported as "modelled").

GitLab's merge train, as modelled here: MRs join in arrival order; up to ``depth`` cars run at
once, each car's pipeline testing the target plus every car ahead plus itself (no batching).
Cars merge in order when their pipeline passes and every car ahead has merged. A car whose
pipeline fails is dropped (rejected) and every car behind it restarts its pipeline on the new
tree. A tree fails when it holds both MRs of a culprit pair, or by a flake (seeded).
Runners are assumed to be at least ``depth``; no API calls are modelled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.metrics import (
    CallCounts,
    Figures,
    MergeRequestRecord,
    PipelineRecord,
    RunRecord,
    figures,
)
from bench.worlds import World

DEFAULT_DEPTH = 4


@dataclass
class _Car:
    iid: int
    started: float
    pipeline: int


@dataclass
class _Train:
    """The model's moving parts while it runs."""

    world: World
    flakes: random.Random
    cars: list[_Car]
    merged: dict[int, float]
    rejected: dict[int, float]
    pipelines: list[PipelineRecord]

    def start(self, iid: int, now: float) -> _Car:
        car = _Car(iid, now, len(self.pipelines) + 1)
        self.pipelines.append(PipelineRecord(car.pipeline, "running", now, now, None))
        return car

    def finish(self, car: _Car, now: float, status: str) -> None:
        self.pipelines[car.pipeline - 1] = PipelineRecord(
            car.pipeline, status, car.started, car.started, now
        )

    def fails(self, iid: int) -> bool:
        tree = {*self.merged, iid}
        broken = any({pair.first, pair.second} <= tree for pair in self.world.pairs)
        flaked = self.flakes.random() < self.world.parameters.flake_rate
        return broken or flaked


def model_train(world: World, depth: int = DEFAULT_DEPTH) -> RunRecord:
    """What a merge train of ``depth`` would do with this world (simulated seconds after t0)."""
    duration = world.parameters.ci_seconds
    waiting = sorted(zip(world.arrivals, world.iids, strict=True))
    train = _Train(world, random.Random(f"train:{world.parameters.seed}"), [], {}, {}, [])
    now = 0.0
    while waiting or train.cars:
        while waiting and waiting[0][0] <= now and len(train.cars) < depth:
            train.cars.append(train.start(waiting.pop(0)[1], now))
        if not train.cars:
            now = waiting[0][0]
            continue
        head = train.cars[0]
        finished_at = max(now, head.started + duration)
        if waiting and waiting[0][0] < finished_at and len(train.cars) < depth:
            now = waiting[0][0]  # a car joins before the head finishes
            continue
        now = finished_at
        train.cars.pop(0)
        if train.fails(head.iid):
            train.finish(head, now, "failed")
            train.rejected[head.iid] = now
            for index, car in enumerate(train.cars):  # the cars behind restart
                train.finish(car, now, "canceled")
                train.cars[index] = train.start(car.iid, now)
        else:
            train.finish(head, now, "success")
            train.merged[head.iid] = now
    return _record(world, train, now)


def _record(world: World, train: _Train, end: float) -> RunRecord:
    records = tuple(
        MergeRequestRecord(
            iid=iid,
            state="merged" if iid in train.merged else "opened",
            with_bot=False,
            assigned_s=world.arrivals[iid - 1],
            merged_s=train.merged.get(iid),
            resolved_s=train.merged.get(iid, train.rejected.get(iid)),
        )
        for iid in world.iids
    )
    return RunRecord(
        merge_requests=records,
        pipelines_after_t0=tuple(train.pipelines),
        bot_calls=CallCounts(0, 0, 0),
        pairs=tuple((pair.first, pair.second) for pair in world.pairs),
        green_main=True,  # every merged tree passed by construction
        commits_adding={iid: int(iid in train.merged) for iid in world.iids},
        end_s=end,
        complete=True,
    )


def modelled_figures(world: World, depth: int = DEFAULT_DEPTH) -> Figures:
    """The figures of the modelled train (API calls are not modelled: reported as 0)."""
    return figures(model_train(world, depth))
