"""A project's stored settings become the engine's: every strategy, the train's depth."""

from __future__ import annotations

import pytest

from merge_assist.merging.persistence.stored_config import engine_config
from merge_assist.projects.config import ProjectConfig


@pytest.mark.parametrize("strategy", ["single", "batch", "train"])
def test_each_strategy_reaches_the_engine(strategy: str) -> None:
    project = ProjectConfig(target_branches=("main",), strategy=strategy, train_depth=5)
    config = engine_config(project)
    assert config.strategy == strategy
    assert config.train_depth == 5
