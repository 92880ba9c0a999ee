"""The engine's settings of one project, read from its stored ``project_config``."""

from __future__ import annotations

from merge_assist.merging.engine.config import EngineConfig, LabelNames, Strategy
from merge_assist.projects.config import ProjectConfig


def engine_config(project: ProjectConfig) -> EngineConfig:
    """What ``decide`` needs from a project's configuration.

    ``polling_interval_seconds`` becomes the idle poll; the busy poll (while a pipeline or a
    rebase we started runs) keeps the engine's default, bounded by the idle poll.
    """
    labels = LabelNames(**project.labels)
    busy = min(EngineConfig().busy_poll_seconds, project.polling_interval_seconds)
    return EngineConfig(
        strategy=_strategy(project.strategy),
        batch_size=project.batch_size,
        train_depth=project.train_depth,
        parallel_tests=project.parallel_tests,
        pipeline_retries=project.pipeline_retries,
        skip_ci_on_landing=project.skip_ci_on_landing,
        max_rejections=project.max_rejections,
        landing="push" if project.landing == "push" else "merge_api",
        labels=labels,
        target_branches=project.target_branches,
        poll_seconds=project.polling_interval_seconds,
        busy_poll_seconds=busy,
    )


def _strategy(name: str) -> Strategy:
    if name == "train":
        return "train"
    return "batch" if name == "batch" else "single"
