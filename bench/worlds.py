"""Benchmark worlds: a seeded GitLab scenario plus arrivals and ground truth (pure, no I/O).

A world is one project with N merge requests by a developer. Every MR adds its own file (so no
two conflict); the MRs of a culprit pair also carry the markers of one of the sandbox's
``ci.fail_together`` groups, so CI breaks only once both are in the tree. Which MR of a pair
is rejected depends on the queue; the ground truth says only which iids form the pairs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

PROJECT = "bench/app"
TARGET = "main"
BOT = "merge-bot"
DEVELOPER = "dev"
ROOT = "root"
BOT_TOKEN = "glpat-bench-bot-token-0000"
DEVELOPER_TOKEN = "glpat-bench-developer-00000"
ROOT_TOKEN = "glpat-bench-root-token-00000"
MERGE_METHODS = ("merge", "ff")


@dataclass(frozen=True)
class WorldParameters:
    """What a world is generated from."""

    name: str
    merge_requests: int
    culprit_pairs: int
    flake_rate: float = 0.0
    ci_seconds: float = 300.0
    runner_capacity: int = 4
    merge_method: str = "merge"
    arrivals_per_hour: float | None = None  # None: every MR is assigned at t0
    # Instead of a Poisson stream: one MR every this many simulated seconds (an idle queue).
    arrival_interval_seconds: float | None = None
    clock_speed: float = 10.0
    seed: int = 1
    family: str = ""  # worlds of one family share their pairs and arrivals (default: the name)
    # Chaos: this share of the bot's GitLab API requests answer 5xx/429, and the contender's
    # processes are killed (SIGKILL) and restarted about every this many simulated seconds.
    fault_rate: float = 0.0
    kill_every_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.merge_requests < 1:
            raise ValueError("a world needs at least one merge request")
        if not 0 <= 2 * self.culprit_pairs <= self.merge_requests:
            raise ValueError("culprit pairs need two merge requests each")
        if self.merge_method not in MERGE_METHODS:
            raise ValueError(f"merge_method is one of {', '.join(MERGE_METHODS)}")
        if self.arrivals_per_hour is not None and self.arrivals_per_hour <= 0:
            raise ValueError("arrivals_per_hour must be positive")
        if self.arrival_interval_seconds is not None and self.arrival_interval_seconds <= 0:
            raise ValueError("arrival_interval_seconds must be positive")
        if not 0.0 <= self.fault_rate < 1.0:
            raise ValueError("fault_rate is a share between 0 and 1")
        if self.kill_every_seconds is not None and self.kill_every_seconds <= 0:
            raise ValueError("kill_every_seconds must be positive")

    @property
    def chaotic(self) -> bool:
        """GitLab faults or killed processes during the run."""
        return self.fault_rate > 0 or self.kill_every_seconds is not None


@dataclass(frozen=True)
class CulpritPair:
    """Two MRs that break CI only together (pair ``k``: markers PAIR-k-A and PAIR-k-B)."""

    first: int
    second: int

    @property
    def iids(self) -> frozenset[int]:
        return frozenset((self.first, self.second))


@dataclass(frozen=True)
class World:
    """A generated world: the sandbox scenario, when each MR arrives, and the ground truth."""

    parameters: WorldParameters
    scenario: dict[str, Any]
    arrivals: tuple[float, ...]  # simulated seconds after t0, by iid - 1
    pairs: tuple[CulpritPair, ...] = field(default=())

    @property
    def iids(self) -> tuple[int, ...]:
        return tuple(range(1, self.parameters.merge_requests + 1))

    def file_of(self, iid: int) -> str:
        """The file only this MR adds."""
        return mr_file(iid)


def mr_file(iid: int) -> str:
    return f"changes/mr-{iid:03d}.txt"


def pair_marker(pair: int, side: str) -> str:
    return f"PAIR-{pair}-{side}"


def generate(parameters: WorldParameters) -> World:
    """The world these parameters and their seed describe (same input, same world)."""
    chooser = random.Random(f"world:{parameters.seed}:{parameters.family or parameters.name}")
    iids = list(range(1, parameters.merge_requests + 1))
    in_pairs = chooser.sample(iids, 2 * parameters.culprit_pairs)
    pairs = tuple(
        CulpritPair(*sorted(in_pairs[2 * k : 2 * k + 2])) for k in range(parameters.culprit_pairs)
    )
    return World(
        parameters=parameters,
        scenario=_scenario(parameters, pairs),
        arrivals=arrival_offsets(parameters),
        pairs=pairs,
    )


def arrival_offsets(parameters: WorldParameters) -> tuple[float, ...]:
    """Simulated seconds after t0 at which each MR is assigned: all 0, evenly spaced, or a
    Poisson stream."""
    if parameters.arrival_interval_seconds is not None:
        gap = parameters.arrival_interval_seconds
        return tuple(round(gap * n, 3) for n in range(parameters.merge_requests))
    if parameters.arrivals_per_hour is None:
        return (0.0,) * parameters.merge_requests
    clock = random.Random(f"arrivals:{parameters.seed}:{parameters.family or parameters.name}")
    mean_gap = 3600.0 / parameters.arrivals_per_hour
    offsets, now = [], 0.0
    for _ in range(parameters.merge_requests):
        offsets.append(round(now, 3))
        now += clock.expovariate(1.0 / mean_gap)
    return tuple(offsets)


def _files(iid: int, pairs: tuple[CulpritPair, ...]) -> dict[str, str]:
    text = f"change of MR {iid}\n"
    for number, pair in enumerate(pairs, start=1):
        if iid == pair.first:
            text += f"{pair_marker(number, 'A')}\n"
        elif iid == pair.second:
            text += f"{pair_marker(number, 'B')}\n"
    return {mr_file(iid): text}


def _scenario(parameters: WorldParameters, pairs: tuple[CulpritPair, ...]) -> dict[str, Any]:
    together = [[pair_marker(k, "A"), pair_marker(k, "B")] for k in range(1, len(pairs) + 1)]
    merge_requests = [
        {
            "source_branch": f"mr-{iid:03d}",
            "title": f"Change {iid}",
            "author": DEVELOPER,
            "files": _files(iid, pairs),
        }
        for iid in range(1, parameters.merge_requests + 1)
    ]
    return {
        "seed": parameters.seed,
        "ci": {
            "fail_together": together,
            "flake_rate": parameters.flake_rate,
            "duration_seconds": [parameters.ci_seconds, parameters.ci_seconds],
            "runner_capacity": parameters.runner_capacity,
        },
        "users": [
            {"username": ROOT, "admin": True, "tokens": [{"name": "root", "value": ROOT_TOKEN}]},
            {
                "username": BOT,
                "name": "Merge Bot",
                "bot": True,
                "tokens": [{"name": "bot", "scopes": ["api"], "value": BOT_TOKEN}],
            },
            {
                "username": DEVELOPER,
                "name": "Dev Eloper",
                "tokens": [{"name": "dev", "value": DEVELOPER_TOKEN}],
            },
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": ROOT,
                "default_branch": TARGET,
                "members": {BOT: "maintainer", DEVELOPER: "developer"},
                "protected_branches": [
                    {
                        "name": TARGET,
                        "push_access_level": "maintainer",
                        "merge_access_level": "developer",
                    }
                ],
                "settings": {
                    "merge_method": parameters.merge_method,
                    "only_allow_merge_if_pipeline_succeeds": True,
                    "approvals_before_merge": 0,
                },
                "files": {"README.md": "# app\n"},
                "merge_requests": merge_requests,
            }
        ],
    }


STANDARD: dict[str, WorldParameters] = {
    "A": WorldParameters(name="A", merge_requests=20, culprit_pairs=2),
    "A-ff": WorldParameters(
        name="A-ff", merge_requests=20, culprit_pairs=2, merge_method="ff", family="A"
    ),
    "A-flaky": WorldParameters(
        name="A-flaky", merge_requests=20, culprit_pairs=2, flake_rate=0.03, family="A"
    ),
    "poisson": WorldParameters(
        name="poisson", merge_requests=60, culprit_pairs=6, arrivals_per_hour=30.0
    ),
    # An idle queue: each MR arrives after the one before has landed, behind the target (the
    # MRs before it moved it), so `single` must rebase and wait for one pipeline: its latency
    # minus the CI time is the queue's own overhead.
    "idle": WorldParameters(
        name="idle", merge_requests=4, culprit_pairs=0, arrival_interval_seconds=600.0
    ),
    # Chaos (issue "Merge throughput II"): 10 % of the bot's API requests fail and the
    # product is killed about 600 simulated seconds (one minute real) after each restart; more
    # than 60 MRs must land.
    "chaos": WorldParameters(
        name="chaos",
        merge_requests=70,
        culprit_pairs=4,
        fault_rate=0.1,
        kill_every_seconds=600.0,
    ),
    "smoke": WorldParameters(
        name="smoke",
        merge_requests=6,
        culprit_pairs=1,
        ci_seconds=30.0,
        runner_capacity=2,
        clock_speed=20.0,
    ),
}
STANDARD["smoke-chaos"] = WorldParameters(
    **{
        **STANDARD["smoke"].__dict__,
        "name": "smoke-chaos",
        "family": "smoke",
        "fault_rate": 0.1,
        "kill_every_seconds": 300.0,
    }
)
TABLE_WORLDS = ("A", "A-ff", "A-flaky", "poisson")


def standard_world(
    name: str, *, seed: int | None = None, clock_speed: float | None = None
) -> World:
    """One of the standard worlds, optionally with another seed or clock speed."""
    try:
        parameters = STANDARD[name]
    except KeyError:
        raise ValueError(f"unknown world {name!r}; choose one of {', '.join(STANDARD)}") from None
    changes: dict[str, Any] = {}
    if seed is not None:
        changes["seed"] = seed
    if clock_speed is not None:
        changes["clock_speed"] = clock_speed
    if changes:
        parameters = WorldParameters(**{**parameters.__dict__, **changes})
    return generate(parameters)
