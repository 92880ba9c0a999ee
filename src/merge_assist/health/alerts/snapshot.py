"""Reading the state the rules look at: the database, then GitLab with the bot token.

The database part is one read-only session; GitLab is asked outside it (a slow GitLab must not
hold a transaction open). Anything that cannot be read is left out of the snapshot rather than
reported as wrong, except GitLab itself, whose failure *is* the condition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import gitlab_identities
from merge_assist.gitlab import GitLabAuthError, GitLabClient, GitLabError, GitLabNotFound
from merge_assist.gitlab.models import Hook
from merge_assist.health import repository as health_queries
from merge_assist.health.alerts.rules import (
    FORGET_SILENT_AFTER,
    GitLabProbe,
    GitLabReach,
    HookState,
    LeaseSeen,
    ProcessSeen,
    QueuedMergeRequest,
    Snapshot,
    Thresholds,
    UserToken,
    WebhookSeen,
)
from merge_assist.kit.errors import MergeAssistError
from merge_assist.kit.web import AppResources
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY
from merge_assist.workers import heartbeats, leases

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchedHook:
    """A project whose webhook should exist in GitLab."""

    project_id: int
    project_path: str
    gitlab_project_id: int
    hook_id: int


@dataclass(frozen=True)
class DatabaseView:
    """The snapshot's database part, and the webhooks to look up in GitLab."""

    snapshot: Snapshot
    hooks: tuple[WatchedHook, ...]


async def read_database(session: AsyncSession, now: datetime, limits: Thresholds) -> DatabaseView:
    """Processes, the leases of active projects, long-queued MRs, expiring user tokens."""
    active = {p.id: p for p in await projects.all_projects(session, include_inactive=False)}
    beats = await heartbeats.all_heartbeats(session)
    processes = tuple(
        ProcessSeen(b.worker_id, b.role, b.hostname, b.last_seen, b.stopped_at)
        for b in beats
        if now - b.last_seen <= FORGET_SILENT_AFTER
    )
    lease_rows = tuple(
        LeaseSeen(
            row.project_id, active[row.project_id].path_with_namespace, row.owner, row.expires_at
        )
        for row in await leases.current_leases(session)
        if row.project_id in active
    )
    cutoff = now - timedelta(minutes=limits.stuck_after_minutes)
    queued = tuple(
        QueuedMergeRequest(
            project_id=row.project_id,
            project_path=active[row.project_id].path_with_namespace,
            iid=row.iid,
            target_branch=row.target_branch,
            queue_state=row.queue_state,
            recognised_at=row.recognised_at,
        )
        for row in await health_queries.queued_since_before(session, cutoff)
        if row.project_id in active and row.recognised_at is not None
    )
    horizon = now + timedelta(days=limits.token_expiry_days)
    tokens = tuple(
        UserToken(user_id, username, expires_at)
        for user_id, username, expires_at in await gitlab_identities.tokens_expiring(
            session, horizon
        )
    )
    hooks = []
    for project in active.values():
        if project.webhook_id is None:
            continue
        config = await projects.get_config(session, project.id)
        if config.webhook_enabled:
            hooks.append(
                WatchedHook(
                    project.id,
                    project.path_with_namespace,
                    project.gitlab_project_id,
                    project.webhook_id,
                )
            )
    return DatabaseView(
        Snapshot(
            now=now, processes=processes, leases=lease_rows, queued=queued, user_tokens=tokens
        ),
        tuple(hooks),
    )


def hook_state(found: Hook | None) -> HookState:
    """Our webhook as GitLab lists it: gone, disabled for a while, disabled, or fine."""
    if found is None:
        return HookState.missing
    if found.alert_status == "temporarily_disabled":
        return HookState.failing
    if found.alert_status == "disabled":
        return HookState.disabled
    return HookState.ok


async def probe_gitlab(
    res: AppResources, hooks: tuple[WatchedHook, ...]
) -> tuple[GitLabProbe, tuple[WebhookSeen, ...]]:
    """Ask GitLab who the bot is, when its token expires, and how our webhooks fare."""
    try:
        client = res.service(GITLAB_CLIENT_FACTORY)()
    except MergeAssistError:
        return GitLabProbe(GitLabReach.not_configured), ()
    async with client:
        try:
            await client.current_user()
        except GitLabAuthError:
            return GitLabProbe(GitLabReach.refused), ()
        except GitLabError as exc:
            return GitLabProbe(GitLabReach.unreachable, exc.message), ()
        expires_on = None
        try:
            expires_on = (await client.token_self()).expires_at
        except GitLabError:
            log.info("GitLab did not tell the bot token's expiry")
        return GitLabProbe(GitLabReach.ok, bot_token_expires_on=expires_on), await _hooks(
            client, hooks
        )


async def _hooks(client: GitLabClient, hooks: tuple[WatchedHook, ...]) -> tuple[WebhookSeen, ...]:
    seen = []
    for hook in hooks:
        try:
            listed = await client.list_project_hooks(hook.gitlab_project_id)
        except GitLabNotFound:
            continue  # the project itself is gone: the queue reports that
        except GitLabError:
            log.info("could not list a project's webhooks", extra={"project_id": hook.project_id})
            continue
        found = next((item for item in listed if item.id == hook.hook_id), None)
        detail = ""
        if found is not None and found.disabled_until is not None:
            detail = f"GitLab tries again after {found.disabled_until.isoformat()}."
        seen.append(WebhookSeen(hook.project_id, hook.project_path, hook_state(found), detail))
    return tuple(seen)
