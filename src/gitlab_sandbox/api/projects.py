"""Projects, their merge settings, members, protected branches, labels and hooks."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render
from gitlab_sandbox.api.deps import ParamsDep, ReaderDep, SandboxDep, WriterDep, project_for
from gitlab_sandbox.api.errors import ApiError, missing, not_found, validation
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.api.params import Params
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events
from gitlab_sandbox.store import AccessLevel, Label, Project, ProjectHook, ProtectedBranch
from gitlab_sandbox.store.models import ProjectSettings

router = APIRouter()

MERGE_METHODS = ("merge", "rebase_merge", "ff")
SQUASH_OPTIONS = ("never", "always", "default_on", "default_off")
_BOOL_SETTINGS = (
    "only_allow_merge_if_pipeline_succeeds",
    "only_allow_merge_if_all_discussions_are_resolved",
    "allow_merge_on_skipped_pipeline",
    "reset_approvals_on_push",
    "remove_source_branch_after_merge",
    "merge_pipelines_enabled",
)


@router.get("/projects")
def list_projects(
    request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    """Projects the caller can see (``membership``, ``search``, ``owned`` filters)."""
    store = sandbox.store
    projects = [
        p
        for p in store.projects.values()
        if store.access_level(p, caller.user) >= AccessLevel.GUEST or p.visibility == "public"
    ]
    if params.bool("membership") or params.bool("owned"):
        floor = AccessLevel.OWNER if params.bool("owned") else AccessLevel.GUEST
        projects = [p for p in projects if p.members.get(caller.user.id, 0) >= floor]
    search = (params.str("search") or "").lower()
    if search:
        projects = [p for p in projects if search in p.path_with_namespace.lower()]
    minimum = params.int("min_access_level")
    if minimum is not None:
        projects = [p for p in projects if store.access_level(p, caller.user) >= minimum]
    descending = (params.str("sort") or "desc") == "desc"
    projects.sort(key=lambda p: p.id, reverse=descending)
    page, headers = paginate(request, params, projects, keyset=True)
    return JSONResponse([render.project(sandbox, p, caller.user) for p in page], headers=headers)


@router.get("/projects/{project_id}")
def get_project(project_id: str, caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    return render.project(sandbox, project_for(sandbox, caller, project_id), caller.user)


@router.put("/projects/{project_id}")
def update_project(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Change the merge settings (maintainers)."""
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    apply_settings(project, params)
    project.last_activity_at = sandbox.now()
    return render.project(sandbox, project, caller.user)


def apply_settings(project: Project, params: Params) -> None:
    """Apply the settings present in ``params`` (others stay as they are)."""
    _apply_merge_options(project.settings, params)
    _apply_texts(project, params)
    default_branch = params.str("default_branch")
    if default_branch:
        project.default_branch = default_branch


def _apply_merge_options(settings: ProjectSettings, params: Params) -> None:
    """The merge method, squash option, switches and approvals, each checked first."""
    settings.merge_method = _choice(params, "merge_method", MERGE_METHODS, settings.merge_method)
    settings.squash_option = _choice(
        params, "squash_option", SQUASH_OPTIONS, settings.squash_option
    )
    for name in _BOOL_SETTINGS:
        value = params.bool(name)
        if value is not None:
            setattr(settings, name, value)
    approvals = params.int("approvals_before_merge")
    if approvals is not None:
        if approvals < 0:
            raise validation({"approvals_before_merge": ["must be greater than or equal to 0"]})
        settings.approvals_before_merge = approvals


def _choice(params: Params, name: str, allowed: Collection[str], current: str) -> str:
    """``params[name]`` when it is one of ``allowed``; ``current`` when absent; 400 otherwise."""
    value = params.str(name)
    if value is None:
        return current
    if value not in allowed:
        raise ApiError(400, f"{name} does not have a valid value", key="error")
    return value


def _apply_texts(project: Project, params: Params) -> None:
    """The commit templates and the description (present but empty clears them)."""
    for name in ("merge_commit_template", "squash_commit_template"):
        if name in params:
            setattr(project.settings, name, params.str(name))
    if "description" in params:
        project.description = params.str("description") or ""


@router.get("/projects/{project_id}/members/all")
@router.get("/projects/{project_id}/members")
def list_members(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    members = [
        (sandbox.store.users[uid], level)
        for uid, level in sorted(project.members.items())
        if uid in sandbox.store.users
    ]
    query = (params.str("query") or "").lower()
    if query:
        members = [(u, lvl) for u, lvl in members if query in u.username.lower()]
    page, headers = paginate(request, params, members)
    return JSONResponse([render.member(sandbox, u, lvl) for u, lvl in page], headers=headers)


@router.get("/projects/{project_id}/members/all/{user_id}")
@router.get("/projects/{project_id}/members/{user_id}")
def get_member(
    project_id: str, user_id: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    user = sandbox.store.users.get(user_id)
    if user is None or user_id not in project.members:
        raise not_found("Member")
    return render.member(sandbox, user, project.members[user_id])


@router.post("/projects/{project_id}/members", status_code=201)
def add_member(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    user_id, level = params.int("user_id"), params.int("access_level")
    if user_id is None or level is None:
        raise missing(*[n for n, v in (("user_id", user_id), ("access_level", level)) if v is None])
    user = sandbox.store.users.get(user_id)
    if user is None:
        raise not_found("User")
    if user_id in project.members:
        raise ApiError(409, "Member already exists")
    project.members[user_id] = level
    return render.member(sandbox, user, level)


# protected branches ------------------------------------------------------------------------
@router.get("/projects/{project_id}/protected_branches")
def list_protected(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    page, headers = paginate(request, params, project.protected_branches)
    return JSONResponse([render.protected_branch(r) for r in page], headers=headers)


@router.get("/projects/{project_id}/protected_branches/{name}")
def get_protected(
    project_id: str, name: str, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    rule = next((r for r in project.protected_branches if r.name == _decode(name)), None)
    if rule is None:
        raise not_found("Protected Branch")
    return render.protected_branch(rule)


@router.post("/projects/{project_id}/protected_branches", status_code=201)
def protect_branch(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    (name,) = params.required_str("name")
    if any(r.name == name for r in project.protected_branches):
        raise ApiError(409, "Protected branch '" + name + "' already exists")
    rule = ProtectedBranch(
        id=sandbox.store.next_id("protected_branch"),
        name=name,
        push_access_level=params.int("push_access_level", AccessLevel.MAINTAINER) or 0,
        merge_access_level=params.int("merge_access_level", AccessLevel.MAINTAINER) or 0,
        allow_force_push=bool(params.bool("allow_force_push", False)),
    )
    project.protected_branches.append(rule)
    return render.protected_branch(rule)


@router.delete("/projects/{project_id}/protected_branches/{name}", status_code=204)
def unprotect_branch(
    project_id: str, name: str, caller: WriterDep, sandbox: SandboxDep
) -> Response:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    before = len(project.protected_branches)
    project.protected_branches = [r for r in project.protected_branches if r.name != _decode(name)]
    if len(project.protected_branches) == before:
        raise not_found("Protected Branch")
    return Response(status_code=204)


# labels ------------------------------------------------------------------------------------
def _label(value: Label) -> dict[str, Any]:
    return {
        "id": value.id,
        "name": value.name,
        "color": value.color,
        "text_color": "#FFFFFF",
        "description": value.description,
        "description_html": value.description or "",
        "open_issues_count": 0,
        "closed_issues_count": 0,
        "open_merge_requests_count": 0,
        "subscribed": False,
        "priority": None,
        "is_project_label": True,
    }


@router.get("/projects/{project_id}/labels")
def list_labels(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    page, headers = paginate(request, params, project.labels)
    return JSONResponse([_label(label) for label in page], headers=headers)


@router.post("/projects/{project_id}/labels", status_code=201)
def create_label(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    name, color = params.required_str("name", "color")
    if any(label.name.lower() == name.lower() for label in project.labels):
        raise ApiError(409, "Label already exists")
    label = Label(sandbox.store.next_id("label"), name, color, params.str("description"))
    project.labels.append(label)
    return _label(label)


# hooks -------------------------------------------------------------------------------------
_HOOK_EVENTS = (
    "push_events",
    "merge_requests_events",
    "pipeline_events",
    "note_events",
    "job_events",
)


def _hook(sandbox: Sandbox, project: Project, hook: ProjectHook) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": hook.id,
        "url": hook.url,
        "project_id": project.id,
        "created_at": render.iso(hook.created_at),
        "enable_ssl_verification": hook.enable_ssl_verification,
        "push_events_branch_filter": None,
        "tag_push_events": False,
        "issues_events": False,
        "confidential_issues_events": False,
        "wiki_page_events": False,
        "deployment_events": False,
        "releases_events": False,
        # WebHooks::AutoDisabling, shown by API::Entities::Hook.
        "alert_status": hook.health.alert_status(sandbox.now()),
        "disabled_until": render.iso(hook.health.disabled_until),
    }
    data.update({name: getattr(hook, name) for name in _HOOK_EVENTS})
    return data


@router.get("/projects/{project_id}/hooks")
def list_hooks(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    page, headers = paginate(request, params, project.hooks)
    return JSONResponse([_hook(sandbox, project, h) for h in page], headers=headers)


@router.get("/projects/{project_id}/hooks/{hook_id}")
def get_hook(
    project_id: str, hook_id: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    hook = next((h for h in project.hooks if h.id == hook_id), None)
    if hook is None:
        raise not_found("Hook")
    return _hook(sandbox, project, hook)


@router.post("/projects/{project_id}/hooks", status_code=201)
def create_hook(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    (url,) = params.required_str("url")
    if not url.startswith(("http://", "https://")):
        raise validation({"url": ["is blocked: Only allowed schemes are http, https"]}, 422)
    hook = ProjectHook(
        id=sandbox.store.next_id("hook"),
        url=url,
        token=params.str("token"),
        enable_ssl_verification=bool(params.bool("enable_ssl_verification", True)),
        created_at=sandbox.now(),
    )
    for name in _HOOK_EVENTS:
        value = params.bool(name)
        if value is not None:
            setattr(hook, name, value)
    project.hooks.append(hook)
    return _hook(sandbox, project, hook)


# GitLab's triggers for a test delivery; the sandbox sends the push test (the product's check).
_TEST_TRIGGERS = (
    "push_events",
    "tag_push_events",
    "issues_events",
    "confidential_issues_events",
    "note_events",
    "merge_requests_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "releases_events",
    "emoji_events",
    "resource_access_token_events",
)


@router.post("/projects/{project_id}/hooks/{hook_id}/test/{trigger}", status_code=201)
async def test_hook(
    project_id: str, hook_id: int, trigger: str, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Send a test delivery now (GitLab 17.1+): 201 when the receiver answered 2xx, 422 with
    the reason otherwise (``Hook execution failed: ...``)."""
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    hook = next((h for h in project.hooks if h.id == hook_id), None)
    if hook is None:
        raise not_found("Hook")
    if trigger not in _TEST_TRIGGERS:
        raise ApiError(400, "trigger does not have a valid value", key="error")
    if trigger != "push_events":
        raise ApiError(422, f"The sandbox sends only push_events test deliveries, not {trigger}.")
    record = await events.send_test_push(sandbox, project, hook, caller.user)
    if record is None:
        raise ApiError(422, "Ensure the project has at least one commit.")
    if record.status != "delivered":
        reason = record.error or f"HTTP {record.response_code}"
        raise ApiError(422, f"Hook execution failed: {reason}")
    return {"message": "201 Created"}


@router.delete("/projects/{project_id}/hooks/{hook_id}", status_code=204)
def delete_hook(project_id: str, hook_id: int, caller: WriterDep, sandbox: SandboxDep) -> Response:
    project = project_for(sandbox, caller, project_id, AccessLevel.MAINTAINER)
    if not any(h.id == hook_id for h in project.hooks):
        raise not_found("Hook")
    project.hooks = [h for h in project.hooks if h.id != hook_id]
    return Response(status_code=204)


def _decode(value: str) -> str:
    return unquote(value)
