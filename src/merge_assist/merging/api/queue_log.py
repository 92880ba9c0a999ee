"""Reading the queue's log: who may, and which lines (reads only).

Admins read every line (``project_id`` optional); otherwise the caller names a project they
may manage (admin, or ``project_owner`` with ``can_manage`` on it). ``level`` is a minimum,
``q`` a case-insensitive substring of the message, ``after_id`` tails: only newer lines.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.principal import Principal
from merge_assist.kit.errors import Forbidden, Unprocessable
from merge_assist.merging.api import queries
from merge_assist.merging.schemas import LogLevel, LogList, LogOut
from merge_assist.projects import service as projects

LEVELS: tuple[LogLevel, ...] = ("debug", "info", "warning", "error")
MAX_LOG_PAGE = 1000


def levels_from(minimum: LogLevel) -> tuple[LogLevel, ...]:
    """The levels at or above ``minimum``."""
    return LEVELS[LEVELS.index(minimum) :]


async def list_logs(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int | None,
    level: LogLevel,
    contains: str | None,
    after_id: int | None,
    limit: int,
) -> LogList:
    """Log lines the caller may read, oldest first (see the module's rules)."""
    if project_id is None:
        if not principal.is_admin:
            raise Unprocessable("Choose a project: project_id is required unless you are an admin.")
    else:
        await projects.get_visible_project(session, principal, project_id)
        if not await projects.can_manage(session, principal, project_id):
            raise Forbidden(
                "Reading a project's logs needs the admin role, or the project_owner role "
                "with the manage permission on that project."
            )
    lines = await queries.log_lines(
        session,
        project_id=project_id,
        levels=levels_from(level),
        contains=contains,
        after_id=after_id,
        limit=limit,
    )
    return LogList(items=[LogOut.model_validate(line) for line in lines])
