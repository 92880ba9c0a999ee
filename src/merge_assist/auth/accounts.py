"""User administration: create, change, deactivate users and their roles (never commits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.auth.audit_port import AuditSink
from merge_assist.auth.models import User
from merge_assist.auth.passwords import check_password_policy, password_hashing
from merge_assist.auth.reserved_names import refuse_reserved
from merge_assist.auth.revocation import close_live_sockets, end_sessions
from merge_assist.auth.roles import ROLE_NAMES, RoleName
from merge_assist.auth.schemas import UserCreate, UserUpdate
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Conflict, NotFound
from merge_assist.kit.settings import Settings


async def get_user(session: AsyncSession, user_id: int) -> User:
    """The user ``user_id``; NotFound otherwise."""
    user = await repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


async def get_user_by_username(session: AsyncSession, username: str) -> User:
    """The user called ``username`` (any case); NotFound otherwise."""
    user = await repository.user_by_username(session, username)
    if user is None:
        raise NotFound(f"There is no user called {username!r}.")
    return user


async def list_users(
    session: AsyncSession, *, query: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[Sequence[User], int]:
    """One page of users (by username) matching ``query`` in username, name or email."""
    return await repository.list_users(
        session, query=query, offset=(page - 1) * per_page, limit=per_page
    )


async def create_user(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    actor_id: int | None,
    data: UserCreate,
) -> User:
    """Create a user with a password; Conflict when the username is taken, 422 when a name
    reads as the system's (``reserved_names``)."""
    refuse_reserved(data.username, "username")
    if data.display_name:
        refuse_reserved(data.display_name, "display name")
    if await repository.user_by_username(session, data.username) is not None:
        raise Conflict(f"The username {data.username!r} is already taken.")
    role_names = data.roles if data.roles is not None else [_default_role(settings)]
    password_hash = await password_hashing(settings).hash_async(data.password)
    now = utcnow()
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        email=data.email,
        password_hash=password_hash,
        is_active=True,
        created_at=now,
        updated_at=now,
        roles=await repository.roles_named(session, role_names),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent creation won the race
        raise Conflict(f"The username {data.username!r} is already taken.") from exc
    await _audit(audit, session, actor_id, "user.create", user, {"roles": sorted(user.role_names)})
    return user


async def update_user(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    actor_id: int | None,
    user_id: int,
    data: UserUpdate,
) -> User:
    """Apply the fields sent in ``data``; deactivation and demotion keep an active admin."""
    user = await get_user(session, user_id)
    sent = data.model_fields_set
    changed: dict[str, Any] = {}
    if "roles" in sent and data.roles is not None:
        await _set_roles(session, user, data.roles)
        changed["roles"] = sorted(user.role_names)
    if "is_active" in sent and data.is_active is not None and data.is_active != user.is_active:
        if data.is_active:
            user.is_active = True
        else:
            await _deactivate(session, user, actor_id)
        changed["is_active"] = data.is_active
    if "display_name" in sent and data.display_name is not None:
        refuse_reserved(data.display_name, "display name")
        user.display_name = data.display_name
        changed["display_name"] = data.display_name
    if "email" in sent:
        user.email = data.email
        changed["email"] = data.email
    if "password" in sent and data.password is not None:
        await _set_password(session, settings, user, data.password)
        changed["password_changed"] = True
    user.updated_at = utcnow()
    await session.flush()
    await _audit(audit, session, actor_id, "user.update", user, changed)
    return user


async def deactivate_user(
    session: AsyncSession, audit: AuditSink, *, actor_id: int | None, user_id: int
) -> User:
    """Deactivate a user and end their sign-ins; not yourself, not the last active admin."""
    user = await get_user(session, user_id)
    if user.is_active:
        await _deactivate(session, user, actor_id)
        user.updated_at = utcnow()
        await session.flush()
    await _audit(audit, session, actor_id, "user.deactivate", user, {})
    return user


async def set_roles(
    session: AsyncSession,
    audit: AuditSink,
    *,
    actor_id: int | None,
    user_id: int,
    roles: Iterable[str],
) -> User:
    """Replace a user's roles; removing admin from the last active admin is refused."""
    user = await get_user(session, user_id)
    await _set_roles(session, user, [RoleName(name) for name in roles])
    user.updated_at = utcnow()
    await session.flush()
    details = {"roles": sorted(user.role_names)}
    await _audit(audit, session, actor_id, "user.set_roles", user, details)
    return user


async def reset_password(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    actor_id: int | None,
    user_id: int,
    password: str,
) -> User:
    """Give a user a new password and end their sign-ins."""
    user = await get_user(session, user_id)
    await _set_password(session, settings, user, password)
    user.updated_at = utcnow()
    await session.flush()
    await _audit(audit, session, actor_id, "user.reset_password", user, {})
    return user


def _default_role(settings: Settings) -> RoleName:
    if settings.default_role not in ROLE_NAMES:
        raise RuntimeError(
            f"MERGE_ASSIST_DEFAULT_ROLE is {settings.default_role!r}, which is not a role; "
            f"use one of {', '.join(ROLE_NAMES)}."
        )
    return RoleName(settings.default_role)


async def _set_roles(session: AsyncSession, user: User, roles: Sequence[RoleName]) -> None:
    if RoleName.admin not in roles:
        await _keep_an_admin(session, user, "remove the admin role from")
    before = user.role_names
    user.roles = await repository.roles_named(session, roles)
    if user.role_names != before:
        # Requests read the roles anew, so the tokens stay; the sockets reconnect, and the
        # dashboard reloads what it shows under the new roles.
        close_live_sockets(session, user.id)


async def _deactivate(session: AsyncSession, user: User, actor_id: int | None) -> None:
    if actor_id is not None and actor_id == user.id:
        raise Conflict("You cannot deactivate your own account; ask another admin.")
    await _keep_an_admin(session, user, "deactivate")
    user.is_active = False
    await end_sessions(session, user.id)


async def _keep_an_admin(session: AsyncSession, user: User, verb: str) -> None:
    """Refuse a change that would leave no active admin."""
    if not user.is_active or RoleName.admin not in user.role_names:
        return
    if await repository.active_admin_ids(session) == [user.id]:
        raise Conflict(
            f"Cannot {verb} {user.username!r}: they are the last active admin. "
            "Make another user admin first."
        )


async def _set_password(
    session: AsyncSession, settings: Settings, user: User, password: str
) -> None:
    check_password_policy(password)
    user.password_hash = await password_hashing(settings).hash_async(password)
    # A new password ends existing sign-ins (the old one may be why it changed).
    await end_sessions(session, user.id)


async def _audit(
    audit: AuditSink,
    session: AsyncSession,
    actor_id: int | None,
    action: str,
    user: User,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session,
        actor_id=actor_id,
        action=action,
        target=f"user:{user.id}",
        success=True,
        details={"username": user.username, **details},
    )
