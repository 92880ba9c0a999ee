"""``merge-assist users``: create and manage users from the server's shell.

Passwords are read from stdin (``--password-stdin``, or whatever is piped in) or generated and
printed once; there is no default password. Every change is audited through the ``AuditSink``
the command's assembly plugs in (``record_audit_into``): auth sits below the audit log.
"""

from __future__ import annotations

import io
import select
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import accounts
from merge_assist.auth.audit_port import AuditSink
from merge_assist.auth.models import User
from merge_assist.auth.passwords import generate_password
from merge_assist.auth.roles import ROLE_NAMES, RoleName
from merge_assist.auth.schemas import UserCreate
from merge_assist.kit.cli import EXIT_REFUSED, run_unit_of_work
from merge_assist.kit.settings import Settings, get_settings

users_app = typer.Typer(no_args_is_help=True)

T = TypeVar("T")
Work = Callable[[AsyncSession, Settings], Awaitable[T]]

STDIN_HELP = "Read the password from the first line of stdin."

_audit_sinks: list[AuditSink] = []


def record_audit_into(sink: AuditSink) -> None:
    """Where the ``users`` commands record their audit entries (``merge_assist.cli`` plugs in
    the audit log when it assembles the command)."""
    _audit_sinks[:] = [sink]


def _audit() -> AuditSink:
    if not _audit_sinks:
        raise RuntimeError("No audit sink is plugged into the users commands (record_audit_into).")
    return _audit_sinks[0]


def _run_migrated(work: Work[T]) -> T:
    """Migrate first (users are made before any server ran), then run ``work`` with the
    settings in one committed unit of work (``kit.cli``'s exit codes)."""
    settings = get_settings()

    async def with_settings(session: AsyncSession) -> T:
        return await work(session, settings)

    return run_unit_of_work(with_settings, settings=settings, migrate_first=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(EXIT_REFUSED)


def _stdin_has_data() -> bool:
    stream = sys.stdin
    if stream is None or stream.isatty():
        return False
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return True  # an in-memory stream (tests): reading it never blocks
    try:
        ready, _, _ = select.select([descriptor], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (and so must be shown once)."""
    if from_stdin or _stdin_has_data():
        line = sys.stdin.readline().rstrip("\r\n")
        if line:
            return line, False
        if from_stdin:
            raise _fail("No password on stdin.")
    return generate_password(), True


def _roles(names: list[str]) -> list[RoleName]:
    unknown = [name for name in names if name not in ROLE_NAMES]
    if unknown:
        raise _fail(f"Unknown role {unknown[0]!r}; known roles: {', '.join(ROLE_NAMES)}.")
    return [RoleName(name) for name in names]


def _describe(user: User) -> str:
    state = "active" if user.is_active else "inactive"
    roles = ",".join(sorted(user.role_names)) or "-"
    return f"{user.id:>5}  {user.username:<24} {state:<8}  {roles:<32} {user.display_name}"


def _show_password_once(username: str, password: str) -> None:
    typer.echo(f"Password for {username} (shown only now; store it safely): {password}")


@users_app.command("create")
def create(
    username: str = typer.Argument(..., help="Login name (3-64 letters, digits, . _ -)."),
    role: list[str] = typer.Option(
        [], "--role", "-r", help=f"Role to grant (repeatable): {', '.join(ROLE_NAMES)}."
    ),
    display_name: str | None = typer.Option(None, help="Name shown in the dashboard."),
    email: str | None = typer.Option(None, help="Email address."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=STDIN_HELP),
) -> None:
    """Create a user; without a password on stdin one is generated and printed once."""
    roles = _roles(role) if role else None
    password, generated = _password(password_stdin)
    try:
        data = UserCreate(
            username=username,
            display_name=display_name,
            email=email,
            password=password,
            roles=roles,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise _fail(f"Cannot create the user: {problems}") from exc

    async def work(session: AsyncSession, settings: Settings) -> User:
        return await accounts.create_user(session, settings, _audit(), actor_id=None, data=data)

    user = _run_migrated(work)
    typer.echo(
        f"Created user {user.username} (id {user.id}) with roles: "
        f"{', '.join(sorted(user.role_names)) or 'none'}."
    )
    if generated:
        _show_password_once(user.username, password)


def create_user_now(username: str, password: str, roles: list[RoleName], audit: AuditSink) -> User:
    """Create a user in the settings database (migrating it first); for ``merge-assist demo``."""
    data = UserCreate(username=username, password=password, roles=roles)

    async def work(session: AsyncSession, settings: Settings) -> User:
        return await accounts.create_user(session, settings, audit, actor_id=None, data=data)

    return _run_migrated(work)


@users_app.command("list")
def list_users() -> None:
    """List every user with their roles."""

    async def work(session: AsyncSession, _settings: Settings) -> list[str]:
        lines: list[str] = []
        page = 1
        while True:
            users, total = await accounts.list_users(session, page=page, per_page=200)
            lines.extend(_describe(user) for user in users)
            if page * 200 >= total:
                return lines
            page += 1

    lines = _run_migrated(work)
    typer.echo(f"{'id':>5}  {'username':<24} {'state':<8}  {'roles':<32} display name")
    for line in lines:
        typer.echo(line)


@users_app.command("set-role")
def set_role(
    username: str = typer.Argument(..., help="The user."),
    roles: list[str] = typer.Argument(..., help=f"Their roles from now: {', '.join(ROLE_NAMES)}."),
) -> None:
    """Replace a user's roles."""
    wanted = _roles(roles)

    async def work(session: AsyncSession, _settings: Settings) -> User:
        user = await accounts.get_user_by_username(session, username)
        return await accounts.set_roles(
            session,
            _audit(),
            actor_id=None,
            user_id=user.id,
            roles=wanted,
        )

    user = _run_migrated(work)
    typer.echo(f"{user.username} now has roles: {', '.join(sorted(user.role_names)) or 'none'}.")


@users_app.command("deactivate")
def deactivate(username: str = typer.Argument(..., help="The user.")) -> None:
    """Deactivate a user and end their sign-ins."""

    async def work(session: AsyncSession, _settings: Settings) -> User:
        user = await accounts.get_user_by_username(session, username)
        return await accounts.deactivate_user(session, _audit(), actor_id=None, user_id=user.id)

    user = _run_migrated(work)
    typer.echo(f"Deactivated {user.username}; their sign-ins have ended.")


@users_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="The user."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help=STDIN_HELP),
) -> None:
    """Set a new password (from stdin, or generated and printed once) and end their sign-ins."""
    password, generated = _password(password_stdin)

    async def work(session: AsyncSession, settings: Settings) -> User:
        user = await accounts.get_user_by_username(session, username)
        return await accounts.reset_password(
            session,
            settings,
            _audit(),
            actor_id=None,
            user_id=user.id,
            password=password,
        )

    user = _run_migrated(work)
    typer.echo(f"New password set for {user.username}; their sign-ins have ended.")
    if generated:
        _show_password_once(user.username, password)
