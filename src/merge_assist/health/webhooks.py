"""Whether GitLab still sends each project's webhook: our hook read back through its API.

GitLab sends every event once, and disables a hook that fails 4 times in a row (for a minute,
doubling, up to a day), for good after 40 (``alert_status`` ``temporarily_disabled`` /
``disabled``, ``app/models/concerns/web_hooks/auto_disabling.rb``). Nothing is lost for the
queue, since the watcher's periodic reconcile re-reads every project, but merges wait for it:
the health page says so, and what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from merge_assist.gitlab import GitLabClient, GitLabError, GitLabNotFound
from merge_assist.gitlab.models import Hook
from merge_assist.health.schemas import WebhookHealth
from merge_assist.projects.models import Project

# Answers about one hook at a time, so a slow GitLab cannot hold the page for long.
HOOK_READ_TIMEOUT_SECONDS = 10.0
_RECONCILED = "The periodic reconcile keeps the queue going, more slowly, meanwhile."
_RENEW = "turn webhooks off and on again in the project's settings here to register a new one"


def hook_health(project: Project, hook: Hook | None, error: GitLabError | None) -> WebhookHealth:
    """What the hook GitLab showed (or the error it gave) means for the project (pure)."""
    state, problem = _judge(project, hook, error)
    return WebhookHealth(
        project_id=project.id,
        project_path=project.path_with_namespace,
        hook_id=project.webhook_id,
        state=state,
        disabled_until=hook.disabled_until if hook is not None else None,
        problem=problem,
    )


def _judge(
    project: Project, hook: Hook | None, error: GitLabError | None
) -> tuple[str, str | None]:
    if project.webhook_id is None:
        return "missing", f"No webhook is registered in GitLab; {_RENEW}. {_RECONCILED}"
    if isinstance(error, GitLabNotFound):
        return "missing", f"The webhook was deleted in GitLab; {_RENEW}. {_RECONCILED}"
    if error is not None or hook is None:
        detail = error.message if error is not None else "no answer"
        return "unknown", f"GitLab could not be asked about the webhook: {detail}"
    if hook.alert_status == "temporarily_disabled":
        until = f" until {hook.disabled_until.isoformat()}" if hook.disabled_until else ""
        return "temporarily_disabled", (
            "GitLab stopped sending events to Merge Assist" + until + " after 4 or more failed "
            "deliveries in a row; check that GitLab can reach this server's /webhook/gitlab. "
            + _RECONCILED
        )
    if hook.alert_status == "disabled":
        return "disabled", (
            "GitLab disabled the webhook after 40 failed deliveries in a row and sends nothing "
            f"until it is re-enabled: fix the address, then {_RENEW}. {_RECONCILED}"
        )
    return "executable", None


async def webhook_health(client: GitLabClient, projects: Sequence[Project]) -> list[WebhookHealth]:
    """Read back the hook of every project given (those that take webhooks), side by side."""
    return list(await asyncio.gather(*(_read(client, project) for project in projects)))


async def _read(client: GitLabClient, project: Project) -> WebhookHealth:
    if project.webhook_id is None:
        return hook_health(project, None, None)
    try:
        hook = await asyncio.wait_for(
            client.get_project_hook(project.gitlab_project_id, project.webhook_id),
            HOOK_READ_TIMEOUT_SECONDS,
        )
    except GitLabError as error:
        return hook_health(project, None, error)
    except TimeoutError:
        return hook_health(project, None, GitLabError("GitLab did not answer in time."))
    return hook_health(project, hook, None)
