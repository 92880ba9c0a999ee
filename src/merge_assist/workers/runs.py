"""What a worker runs for a project it owns: the shape of a project run and its outcome.

The merge engine's runner (``merging.persistence.runner.run_project``) is one such run; the
worker only decides *when* and *where* it runs (``merging.adapter.runtime.run_merge_queue`` is
the real one), so tests give the worker a run of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from merge_assist.kit.web import AppResources

StillOwner = Callable[[], Awaitable[bool]]
"""Asks the database whether this worker still holds the project's lease (owner, fencing
token, not expired); a run checks it before each step that writes, and stops when it is
False. It is also False once the worker is stopping."""


class ProjectRunOutcome(Protocol):
    """What a run reports back (``merging.persistence.runner.RunOutcome`` has these attributes)."""

    @property
    def next_check_at(self) -> datetime | None:
        """When the project wants to be looked at again (a pipeline is running, ...)."""
        ...

    @property
    def steps(self) -> int:
        """How many engine steps the run made."""
        ...

    @property
    def lost_lease(self) -> bool:
        """The run stopped because the lease changed hands."""
        ...

    @property
    def observed_at_monotonic(self) -> float | None:
        """``time.monotonic()`` when the run last looked at everything it waits on (None:
        unknown). Wake-ups received before that need no run of their own."""
        ...


@dataclass(frozen=True)
class RunOutcome:
    """A plain ``ProjectRunOutcome`` (for runs other than the engine's, and tests)."""

    next_check_at: datetime | None = None
    steps: int = 0
    lost_lease: bool = False
    observed_at_monotonic: float | None = None


ProjectRun = Callable[[AppResources, int, StillOwner], Awaitable[ProjectRunOutcome]]
"""``run(res, project_id, still_owner)``: reconcile one project until it has nothing to do."""
