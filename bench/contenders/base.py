"""What every contender offers the harness."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.processes import ChildProcess


@dataclass(frozen=True)
class ContenderSetup:
    """Where a contender runs: the sandbox of the run, its folder and the simulated clock."""

    gitlab_url: str
    bot_token: str
    project: str
    folder: Path
    clock_speed: float
    # Chaos: the contender is killed during the run; a shorter lease lets its restart take
    # the project over sooner (the default lease is 30 real seconds).
    killed_during_run: bool = False


class Contender(Protocol):
    """A merge queue started as a real process before t0 and stopped after the run."""

    name: str
    process: ChildProcess | None

    def start(self, setup: ContenderSetup) -> None:
        """Configure and start it; return once it runs."""

    def stop(self) -> None:
        """Stop every process it started (safe to call twice, or before ``start``)."""


def scaled_wait(simulated_seconds: float, clock_speed: float, minimum: float) -> float:
    """Real seconds that correspond to a fixed wait of ``simulated_seconds``."""
    return max(minimum, round(simulated_seconds / clock_speed))
