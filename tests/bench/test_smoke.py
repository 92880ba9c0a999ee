"""The harness end to end: the smoke world for Merge Assist single, batch and train.

Real processes, as in the benchmark: a fresh ``gitlab-sandbox serve``, ``merge-assist serve``
with the project onboarded, the harness assigning the MRs as the developer. No timing
assertions: speed is what the benchmark reports, not what a test checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.run import run
from bench.worlds import standard_world

LIMIT_SECONDS = 120.0  # real seconds; a run takes about 20


@pytest.mark.parametrize("contender", ["ma-single", "ma-batch", "ma-train"])
def test_smoke_world_is_merged_green_and_only_the_culprit_is_rejected(
    contender: str, tmp_path: Path
) -> None:
    world = standard_world("smoke")
    lines: list[str] = []

    outcome = run(world, contender, tmp_path / "run", LIMIT_SECONDS, lines.append)

    log = (tmp_path / "run" / "product.log").read_text(errors="replace")[-3000:]
    assert outcome.error is None, f"{outcome.error}\n{log}"
    assert outcome.figures is not None
    assert outcome.record is not None
    figures = outcome.figures
    assert figures.complete
    assert figures.resolved == figures.merge_requests == 6
    assert figures.green_main
    assert figures.wrongly_rejected == 0
    assert figures.merged_twice == ()
    assert figures.landed_unmerged == ()
    (pair,) = world.pairs
    rejected = {mr.iid for mr in outcome.record.merge_requests if mr.rejected}
    assert len(rejected) == 1
    assert rejected <= {pair.first, pair.second}
    assert figures.merged == 5
    assert figures.pipelines > 0
    assert figures.api_calls > 0
    assert any("resolved 6/6" in line for line in lines)
    assert (tmp_path / "run" / "result.json").exists()


@pytest.mark.chaos
def test_smoke_chaos_world_survives_kills_and_gitlab_faults(tmp_path: Path) -> None:
    world = standard_world("smoke-chaos")
    lines: list[str] = []

    outcome = run(world, "ma-train", tmp_path / "run", LIMIT_SECONDS * 2, lines.append)

    log = (tmp_path / "run" / "product.log").read_text(errors="replace")[-3000:]
    assert outcome.error is None, f"{outcome.error}\n{log}"
    assert outcome.figures is not None
    assert outcome.chaos is not None
    assert outcome.chaos["kills"] >= 1
    assert sum(outcome.chaos["faults"]["errors"].values()) > 0
    assert any("killing ma-train (SIGKILL)" in line for line in lines)
    figures = outcome.figures
    assert figures.complete
    assert figures.green_main
    assert figures.merged_twice == ()
    assert figures.landed_unmerged == ()
    assert figures.wrongly_rejected == 0
    assert figures.merged == 5
