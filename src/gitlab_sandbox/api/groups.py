"""Groups: the list a user sees (``min_access_level``, ``owned``, ``search``) and one group.

As GitLab: a signed-in user sees public and internal groups and the groups they are a member
of, directly or through a parent group (members of a group are members of its subgroups); an
administrator sees every group. ``min_access_level`` keeps the groups in which the caller's
own membership (direct or inherited) is at least that level; ``owned`` those they own directly.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render
from gitlab_sandbox.api.deps import Caller, ParamsDep, ReaderDep, SandboxDep
from gitlab_sandbox.api.errors import not_found
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import AccessLevel, Group

router = APIRouter()
ORDER_KEYS = ("name", "path", "id")


def _sees(sandbox: Sandbox, caller: Caller, group: Group) -> bool:
    if caller.user.is_admin or group.visibility in ("public", "internal"):
        return True
    return sandbox.store.group_membership(group, caller.user) >= AccessLevel.GUEST


@router.get("/groups")
def list_groups(
    request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    """The groups the caller sees, by name (``order_by``: name, path, id; ``sort``: asc)."""
    store = sandbox.store
    groups = [g for g in store.groups.values() if _sees(sandbox, caller, g)]
    minimum = params.int("min_access_level")
    if minimum is not None:
        groups = [g for g in groups if store.group_membership(g, caller.user) >= minimum]
    if params.bool("owned"):
        groups = [g for g in groups if g.members.get(caller.user.id, 0) >= AccessLevel.OWNER]
    if params.bool("top_level_only"):
        groups = [g for g in groups if g.parent_id is None]
    search = (params.str("search") or "").lower()
    if search:
        groups = [g for g in groups if search in g.name.lower() or search in g.path.lower()]
    key = params.str("order_by") or "name"
    key = key if key in ORDER_KEYS else "name"
    groups.sort(key=lambda g: (getattr(g, key), g.id), reverse=params.str("sort") == "desc")
    page, headers = paginate(request, params, groups)
    return JSONResponse([render.group(sandbox, g) for g in page], headers=headers)


@router.get("/groups/{group_id}")
def get_group(group_id: str, caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    """One group by id or url-encoded full path; 404 when the caller cannot see it."""
    group = sandbox.store.group_by_ref(group_id)
    if group is None or not _sees(sandbox, caller, group):
        raise not_found("Group")
    return render.group(sandbox, group)
