"""The merge queues the benchmark runs, each as a real process against the run's sandbox."""

from __future__ import annotations

from collections.abc import Callable

from bench.contenders.base import Contender, ContenderSetup
from bench.contenders.marge_bot import MargeBot
from bench.contenders.merge_assist import MergeAssist

CONTENDERS: dict[str, Callable[[], Contender]] = {
    "ma-single": lambda: MergeAssist("single"),
    "ma-batch": lambda: MergeAssist("batch", batch_size=5),
    "ma-train": lambda: MergeAssist("train", batch_size=5, train_depth=4),
    # The same with skip_ci_on_landing: no target pipeline after the queue's own landings.
    "ma-train-skipci": lambda: MergeAssist(
        "train", batch_size=5, train_depth=4, skip_ci_on_landing=True, name="ma-train-skipci"
    ),
    "marge-single": lambda: MargeBot(batch=False),
    "marge-batch": lambda: MargeBot(batch=True),
}
TABLE_CONTENDERS = ("ma-batch", "ma-single", "marge-single", "marge-batch")


def contender(name: str) -> Contender:
    try:
        return CONTENDERS[name]()
    except KeyError:
        choices = ", ".join(CONTENDERS)
        raise ValueError(f"unknown contender {name!r}; choose one of {choices}") from None


__all__ = ["CONTENDERS", "TABLE_CONTENDERS", "Contender", "ContenderSetup", "contender"]
