"""The rules of projects: onboarding, configuration, webhooks, permissions (never commits).

Who may do what (the global role, refined per project by ``project_permissions``):

- **see** a project: admins see every project, deactivated ones too; any other user holding a
  global role (viewer and up) sees every active project read-only, because the queue of a
  project is not a secret inside the company; a user without any global role sees only the
  active projects on which they hold a permission.
- **manage** (configure) a project: admins, and ``project_owner`` users holding ``can_manage``
  on that project. Only they read its queue log, fetched (``GET /api/logs``, the health
  status's error lines) or live (``log.appended``).
- **set priority**: admins, ``priority_manager`` users, and users holding ``can_set_priority``
  on that project.
- onboarding, deactivating and granting permissions: admins only.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit.service import record
from merge_assist.auth.principal import Principal
from merge_assist.auth.roles import RoleName
from merge_assist.gitlab import GitLabClient
from merge_assist.gitlab.models import Project as GitLabProject
from merge_assist.kit.clock import utcnow
from merge_assist.kit.crypto import Keyring, server_keyring
from merge_assist.kit.errors import Conflict, NotFound
from merge_assist.kit.settings import Settings
from merge_assist.projects import gitlab_access, repository
from merge_assist.projects.config import ProjectConfig, build_config, default_config
from merge_assist.projects.gitlab_access import GitLabClientFactory
from merge_assist.projects.models import Project, ProjectConfigRow

WEBHOOK_SECRET_PURPOSE = "webhook-secret"  # noqa: S105 - a keyring purpose, not a secret
WEBHOOK_SECRET_BYTES = 32


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit log: a signed-in user, or the command line / system."""

    id: int | None
    name: str

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor for a signed-in user."""
        return cls(principal.id, principal.username)


# reading ----------------------------------------------------------------------------------


async def get_project(session: AsyncSession, project_id: int) -> Project:
    """The project ``project_id``; NotFound otherwise."""
    project = await repository.project_by_id(session, project_id)
    if project is None:
        raise NotFound(f"There is no project with id {project_id}.")
    return project


async def find_by_gitlab_id(session: AsyncSession, gitlab_project_id: int) -> Project | None:
    """The onboarded project for GitLab's project id (active or not), e.g. for the listener."""
    return await repository.project_by_gitlab_id(session, gitlab_project_id)


async def all_projects(session: AsyncSession, *, include_inactive: bool) -> Sequence[Project]:
    """Every onboarded project by path (for operators and the product's own services)."""
    return await repository.list_projects(session, include_inactive=include_inactive)


async def visible_projects(session: AsyncSession, principal: Principal) -> Sequence[Project]:
    """The projects ``principal`` may see (see the module's rules)."""
    if principal.is_admin:
        return await repository.list_projects(session, include_inactive=True)
    if principal.roles:
        return await repository.list_projects(session, include_inactive=False)
    return await repository.list_projects(
        session, include_inactive=False, only_for_user=principal.id
    )


async def get_visible_project(
    session: AsyncSession, principal: Principal, project_id: int
) -> Project:
    """The project if ``principal`` may see it; NotFound otherwise (it does not leak existence)."""
    project = await repository.project_by_id(session, project_id)
    if project is not None and principal.is_admin:
        return project
    if (
        project is not None
        and project.is_active
        and (principal.roles or await repository.permission(session, project_id, principal.id))
    ):
        return project
    raise NotFound(f"There is no project with id {project_id}.")


async def audience(session: AsyncSession, project: Project) -> frozenset[int]:
    """The ids of the active users who may see ``project`` (for its live events)."""
    return frozenset(await repository.audience_ids(session, project.id, active=project.is_active))


async def log_audience(session: AsyncSession, project: Project) -> frozenset[int]:
    """The ids of the active users who may read ``project``'s queue log (``can_manage``): the
    receivers of its ``log.appended`` events, the same rule as ``GET /api/logs``."""
    return frozenset(await repository.log_reader_ids(session, project.id, active=project.is_active))


async def managed_projects(session: AsyncSession, principal: Principal) -> frozenset[int] | None:
    """The ids of the projects ``principal`` may manage (and so read the logs of); None: every
    project (an administrator)."""
    if principal.is_admin:
        return None
    if RoleName.project_owner not in principal.roles:
        return frozenset()
    return frozenset(await repository.managed_project_ids(session, principal.id))


async def can_manage(session: AsyncSession, principal: Principal, project_id: int) -> bool:
    """Whether ``principal`` may configure the project (admin, or project_owner + can_manage)."""
    if principal.is_admin:
        return True
    if RoleName.project_owner not in principal.roles:
        return False
    grant = await repository.permission(session, project_id, principal.id)
    return grant is not None and grant.can_manage


async def can_set_priority(session: AsyncSession, principal: Principal, project_id: int) -> bool:
    """Whether ``principal`` may set MR priorities on the project.

    Admins and ``priority_manager`` users everywhere; others with ``can_set_priority`` on it.
    """
    if principal.has_any_role(RoleName.priority_manager):
        return True
    grant = await repository.permission(session, project_id, principal.id)
    return grant is not None and grant.can_set_priority


def config_from_row(row: ProjectConfigRow) -> ProjectConfig:
    """The validated value of a stored configuration row."""
    return ProjectConfig(
        target_branches=tuple(row.target_branches),
        strategy=row.strategy,
        batch_size=row.batch_size,
        train_depth=row.train_depth,
        parallel_tests=row.parallel_tests,
        pipeline_retries=row.pipeline_retries,
        skip_ci_on_landing=row.skip_ci_on_landing,
        polling_interval_seconds=row.polling_interval_seconds,
        labels=dict(row.labels),
        webhook_enabled=row.webhook_enabled,
        max_rejections=row.max_rejections,
        landing=row.landing,
        ai_debug_enabled=row.ai_debug_enabled,
        explain_on_rejection=row.explain_on_rejection,
    )


async def config_row(session: AsyncSession, project_id: int) -> ProjectConfigRow:
    """The stored configuration row of the project; NotFound when the project has none."""
    row = await repository.config_row(session, project_id)
    if row is None:
        raise NotFound(f"There is no project with id {project_id}.")
    return row


async def get_config(session: AsyncSession, project_id: int) -> ProjectConfig:
    """The project's configuration as an immutable, validated value."""
    return config_from_row(await config_row(session, project_id))


def _keyring(settings: Settings) -> Keyring:
    return server_keyring(settings, purpose=WEBHOOK_SECRET_PURPOSE)


def _associated_data(gitlab_project_id: int) -> bytes:
    return f"project:{gitlab_project_id}".encode()


def seal_webhook_secret(settings: Settings, gitlab_project_id: int, secret: str) -> str:
    """The envelope stored for a project's webhook secret."""
    keyring = _keyring(settings)
    return keyring.encrypt(secret.encode(), associated_data=_associated_data(gitlab_project_id))


async def webhook_secret(session: AsyncSession, settings: Settings, project_id: int) -> str:
    """The project's webhook secret in clear, for the listener's constant-time check.

    NotFound when the project is deactivated or has no webhook secret: its events are not
    accepted then.
    """
    project = await get_project(session, project_id)
    secret = open_webhook_secret(settings, project)
    if secret is None:
        raise NotFound(f"The project with id {project_id} has no webhook secret.")
    return secret


def open_webhook_secret(settings: Settings, project: Project) -> str | None:
    """The project's webhook secret in clear; None when it is deactivated or has none.

    ``kit.crypto.DecryptionError`` when the stored secret cannot be decrypted.
    """
    if not project.is_active or not project.webhook_secret_encrypted:
        return None
    plain = _keyring(settings).decrypt(
        project.webhook_secret_encrypted,
        associated_data=_associated_data(project.gitlab_project_id),
    )
    return plain.decode()


# changing ---------------------------------------------------------------------------------


async def _gitlab(factory: GitLabClientFactory) -> GitLabClient:
    # The secrets provider may block (AWS): build the client off the event loop.
    return await asyncio.to_thread(factory)


async def _register_webhook(client: GitLabClient, settings: Settings, project: Project) -> None:
    """Register a hook with a fresh secret; the secret is stored only encrypted."""
    secret = secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)
    hook = await gitlab_access.register_hook(client, settings, project.gitlab_project_id, secret)
    project.webhook_id = hook.id
    project.webhook_secret_encrypted = seal_webhook_secret(
        settings, project.gitlab_project_id, secret
    )


async def onboard(
    session: AsyncSession,
    settings: Settings,
    factory: GitLabClientFactory,
    actor: Actor,
    gitlab_project: int | str,
    changes: dict[str, Any] | None = None,
) -> Project:
    """Onboard a GitLab project: read it as the bot, register our webhook, store the config.

    409 if it is onboarded and active already (a deactivated one is reactivated); 404 if GitLab
    does not show it to the bot; 502 if GitLab cannot be reached.
    """
    async with await _gitlab(factory) as client:
        found = await gitlab_access.fetch_project(client, gitlab_project)
        project = await repository.project_by_gitlab_id(session, found.id)
        if project is not None and project.is_active:
            raise Conflict(
                f"The project {found.path_with_namespace} is onboarded already (id {project.id})."
            )
        current = await get_config(session, project.id) if project is not None else None
        config = build_config(
            current or default_config(found.default_branch),
            changes or {},
            max_batch_size=settings.max_batch_size,
        )
        project = _with_gitlab_details(project or Project(gitlab_project_id=found.id), found)
        if config.webhook_enabled:
            await _register_webhook(client, settings, project)
        try:
            session.add(project)
            await session.flush()
        except IntegrityError as exc:  # onboarded at the same moment by someone else
            if project.webhook_id is not None:
                await gitlab_access.remove_hook(client, found.id, project.webhook_id)
            raise Conflict(
                f"The project {found.path_with_namespace} is onboarded already."
            ) from exc
    await _store_config(session, project.id, config, actor)
    await record(
        session,
        actor_id=actor.id,
        actor_name=actor.name,
        action="project.onboard",
        success=True,
        target_type="project",
        target_id=project.id,
        details={
            "gitlab_project_id": found.id,
            "path": found.path_with_namespace,
            "webhook_id": project.webhook_id,
            "config": config.model_dump(mode="json"),
        },
    )
    return project


def _with_gitlab_details(project: Project, found: GitLabProject) -> Project:
    project.path_with_namespace = found.path_with_namespace
    project.name = found.name or found.path_with_namespace
    project.web_url = found.web_url
    project.default_branch = found.default_branch
    project.is_active = True
    project.webhook_id = None
    return project


async def _store_config(
    session: AsyncSession, project_id: int, config: ProjectConfig, actor: Actor
) -> ProjectConfigRow:
    row = await repository.config_row(session, project_id)
    if row is None:
        row = ProjectConfigRow(project_id=project_id)
        session.add(row)
    values = config.model_dump()
    values["target_branches"] = list(config.target_branches)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    row.updated_by = actor.name
    await session.flush()
    return row


async def update_config(
    session: AsyncSession,
    settings: Settings,
    factory: GitLabClientFactory,
    actor: Actor,
    project_id: int,
    changes: dict[str, Any],
) -> ProjectConfigRow:
    """Apply ``changes`` to the project's configuration, audited with before and after.

    Turning ``webhook_enabled`` off deletes our GitLab hook; turning it on registers a new one
    with a fresh secret.
    """
    project = await get_project(session, project_id)
    before = await get_config(session, project_id)
    after = build_config(before, changes, max_batch_size=settings.max_batch_size)
    if project.is_active and after.webhook_enabled != before.webhook_enabled:
        async with await _gitlab(factory) as client:
            if after.webhook_enabled:
                await _register_webhook(client, settings, project)
            elif project.webhook_id is not None:
                await gitlab_access.remove_hook(
                    client, project.gitlab_project_id, project.webhook_id
                )
                project.webhook_id = None
    row = await _store_config(session, project_id, after, actor)
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = sorted(key for key in new if old[key] != new[key])
    await record(
        session,
        actor_id=actor.id,
        actor_name=actor.name,
        action="project.config.update",
        success=True,
        target_type="project",
        target_id=project_id,
        details={
            "changed": changed,
            "before": {key: old[key] for key in changed},
            "after": {key: new[key] for key in changed},
        },
    )
    return row


async def deactivate(
    session: AsyncSession, factory: GitLabClientFactory, actor: Actor, project_id: int
) -> Project:
    """Stop serving the project: remove our GitLab hook, keep its rows and history."""
    project = await get_project(session, project_id)
    if not project.is_active:
        raise Conflict(f"The project {project.path_with_namespace} is deactivated already.")
    if project.webhook_id is not None:
        async with await _gitlab(factory) as client:
            await gitlab_access.remove_hook(client, project.gitlab_project_id, project.webhook_id)
    project.webhook_id = None
    project.is_active = False
    await session.flush()
    await record(
        session,
        actor_id=actor.id,
        actor_name=actor.name,
        action="project.deactivate",
        success=True,
        target_type="project",
        target_id=project_id,
        details={"path": project.path_with_namespace},
    )
    return project
