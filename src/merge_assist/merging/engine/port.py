"""What the runner needs from GitLab, as a protocol: reading observations, performing actions.

``merging.adapter.gitlab_port.GitLabQueuePort`` implements it over the real client and git;
the runner (``merging.persistence.runner``) adds what only the database knows (priorities,
vault locks, the previous step's results) before calling ``decide``. The protocol lives with
the engine (it speaks only the engine's actions and observations), so the runner needs
nothing of the adapter that implements it.
"""

from __future__ import annotations

from typing import Protocol

from merge_assist.merging.engine.actions import Action
from merge_assist.merging.engine.observations import ActionResult, Observations
from merge_assist.merging.engine.state import TargetQueueState


class QueuePort(Protocol):
    """GitLab as one (project, target branch) queue sees it."""

    async def observe(self, state: TargetQueueState) -> Observations:
        """Read the target head, the recognised MRs plus every MR ``state`` mentions, and the
        pipelines of the shas the state tests. Priorities are 0, locks and results empty:
        the runner fills them in."""
        ...

    async def perform(self, action: Action) -> ActionResult | None:
        """Perform one GitLab action idempotently (never ``RecordHistory`` or ``Wait``: the
        runner handles those). Raises ``merge_assist.gitlab.errors.GitLabError`` when GitLab
        could not be reached or refused unexpectedly; the runner retries the step later."""
        ...
