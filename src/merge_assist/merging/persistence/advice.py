"""The rejection comment's "what to do next", asked of whoever the app plugs in.

The engine writes the rejection comment from what it knows; the assistant (above merging)
knows more: the plain diagnosis's next step. It is plugged in as ``REJECTION_ADVICE`` by the
composition root and asked just before the comment is posted. The comment keeps its key, so a
replay after a crash still finds the posted note by its marker and posts nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from merge_assist.kit.web import AppResources, ServiceKey
from merge_assist.merging.engine.actions import Action, PostComment
from merge_assist.merging.engine.comments import with_advice

RejectionAdvice = Callable[[int, int], Awaitable[str | None]]
"""``(project id, iid)`` → the sentence to add, or None (off for the project, or unknown).
It must not raise: a failure is None."""
REJECTION_ADVICE: ServiceKey[RejectionAdvice] = ServiceKey("rejection comment's advice")
ADVISED_TEMPLATES = frozenset({"rejected"})


async def advised(res: AppResources, project_id: int, action: Action) -> Action:
    """``action`` with the advice added when it posts a rejection comment."""
    if not isinstance(action, PostComment) or action.template not in ADVISED_TEMPLATES:
        return action
    advice = await res.service(REJECTION_ADVICE)(project_id, action.iid)
    if not advice:
        return action
    return action.model_copy(update={"body": with_advice(action.body, advice)})
