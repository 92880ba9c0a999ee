"""The one place the worker meets the merge engine: the production ``ProjectRun``.

Each process keeps one ``GitLabQueueRuntime`` (the bot's GitLab client, git, the ports of the
queues it runs) in ``res.extras``; ``close_merge_queue`` closes it when the worker stops.
"""

from __future__ import annotations

from merge_assist.kit.web import AppResources
from merge_assist.merging.adapter.runtime import RUNTIME_EXTRAS_KEY, GitLabQueueRuntime
from merge_assist.workers.runs import ProjectRunOutcome, StillOwner


async def run_merge_queue(
    res: AppResources, project_id: int, still_owner: StillOwner
) -> ProjectRunOutcome:
    """Run the merge engine for one project until its queues wait (``runner.run_project``)."""
    runtime: GitLabQueueRuntime | None = res.extras.get(RUNTIME_EXTRAS_KEY)
    if runtime is None:
        runtime = GitLabQueueRuntime(res)
        res.extras[RUNTIME_EXTRAS_KEY] = runtime
    return await runtime.run(res, project_id, still_owner)


async def close_merge_queue(res: AppResources) -> None:
    """Close this process's GitLab connection of the merge queue, if it opened one."""
    runtime: GitLabQueueRuntime | None = res.extras.pop(RUNTIME_EXTRAS_KEY, None)
    if runtime is not None:
        await runtime.close()
