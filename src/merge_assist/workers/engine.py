"""The one place the worker meets the merge engine: the production ``ProjectRun``.

The runner (``merge_assist.merging.runner``) is imported lazily so the worker, its leases
and its tests do not depend on the engine's modules.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from merge_assist.kit.web import AppResources
from merge_assist.workers.runs import ProjectRunOutcome, RunOutcome, StillOwner

log = logging.getLogger(__name__)

RUNNER_MODULE = "merge_assist.merging.runner"
_warned: list[bool] = []  # once per process, not once per run


def _runner() -> Any | None:
    try:
        return importlib.import_module(RUNNER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != RUNNER_MODULE:
            raise
        return None


async def run_merge_queue(
    res: AppResources, project_id: int, still_owner: StillOwner
) -> ProjectRunOutcome:
    """Run the merge engine for one project (``merging.runner.run_project``).

    Until the runner is part of the build this logs and reports nothing to do, so the worker
    keeps its leases and schedule and the product still starts.
    """
    runner = _runner()
    if runner is None:
        if not _warned:
            log.warning("the merge engine runner is not installed; projects are not run")
            _warned.append(True)
        return RunOutcome()
    # ``port_for`` builds the GitLab side of one (project, target branch) queue; the runner
    # module provides the production one next to ``run_project``.
    outcome: ProjectRunOutcome = await runner.run_project(
        res, project_id, port_for=runner.port_for(res), still_owner=still_owner
    )
    return outcome
