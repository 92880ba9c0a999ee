"""Non-GitLab admin endpoints under ``/-/sandbox/``, guarded by the sandbox admin token."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from gitlab_sandbox.api.deps import SandboxDep
from gitlab_sandbox.api.errors import ApiError
from gitlab_sandbox.api.params import Params, read_params
from gitlab_sandbox.api.render import iso
from gitlab_sandbox.api.render_mr import pipeline_basic
from gitlab_sandbox.hooks.dispatcher import WebhookFaults
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.scenario import ScenarioError, apply_scenario, load_scenario
from gitlab_sandbox.services.merge_requests import end_transients


def require_admin(request: Request, sandbox: SandboxDep) -> Sandbox:
    """The sandbox, if the request carries its admin token (Bearer or X-Sandbox-Token)."""
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else request.headers.get("x-sandbox-token")
    if not sandbox.check_admin_token(token):
        raise ApiError(401, "401 Unauthorized: the sandbox admin token is required.")
    return sandbox


AdminDep = Annotated[Sandbox, Depends(require_admin)]
ParamsDep = Annotated[Params, Depends(read_params)]

router = APIRouter(prefix="/-/sandbox", include_in_schema=False)


@router.post("/seed", status_code=201)
async def seed(request: Request, sandbox: AdminDep) -> dict[str, Any]:
    """Apply a scenario (JSON body); answers the raw tokens it created."""
    try:
        data = load_scenario(await request.json())
        result = await apply_scenario(sandbox, data)
    except (ScenarioError, ValueError) as error:
        raise ApiError(400, str(error)) from None
    return result.as_dict()


@router.get("/clock")
def get_clock(sandbox: AdminDep) -> dict[str, Any]:
    clock = sandbox.clock
    return {"now": clock.now().isoformat(), "monotonic": clock.monotonic(), "speed": clock.speed}


@router.post("/clock")
def set_clock(params: ParamsDep, sandbox: AdminDep) -> dict[str, Any]:
    """``speed`` (simulated seconds per second) and/or ``advance`` (jump, simulated seconds)."""
    try:
        speed = params.raw("speed")
        if speed is not None:
            sandbox.clock.set_speed(float(speed))
        advance = params.raw("advance")
        if advance is not None:
            sandbox.clock.advance(float(advance))
    except (TypeError, ValueError) as error:
        raise ApiError(400, str(error)) from None
    return get_clock(sandbox)


@router.get("/faults")
def get_faults(sandbox: AdminDep) -> dict[str, Any]:
    """HTTP fault rules with counters, slow operations and webhook faults."""
    webhooks = sandbox.webhooks.faults
    return {
        **sandbox.faults.snapshot(),
        "mergeability_check_seconds": sandbox.config.mergeability_check_seconds,
        "rebase_seconds": sandbox.config.rebase_seconds,
        "asynchronous": sandbox.config.asynchronous,
        "webhooks": {
            "retries": webhooks.retries,
            "ordered": webhooks.ordered,
            "drop_rate": webhooks.drop_rate,
            "duplicate_rate": webhooks.duplicate_rate,
            "reorder_rate": webhooks.reorder_rate,
        },
    }


@router.put("/faults")
@router.post("/faults")
async def set_faults(request: Request, sandbox: AdminDep) -> dict[str, Any]:
    """Change faults: ``rules``, ``seed``, ``slow_rebase_seconds``, ``long_checking_seconds``
    (HTTP and slow operations), ``webhooks`` (``retries``, ``ordered``, drop/duplicate/reorder
    rates; GitLab sends once, in no set order), the base ``mergeability_check_seconds`` /
    ``rebase_seconds``, and ``asynchronous`` (GitLab's asynchrony: on by default; ``false``
    makes every GET recompute and a push's reactions run before it returns). Keys left out
    stay as they are."""
    body = await request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "The faults must be a JSON object.")
    try:
        own = {}
        for name in ("mergeability_check_seconds", "rebase_seconds"):
            if name in body:
                own[name] = float(body.pop(name))
                if own[name] < 0:
                    raise ValueError(f"{name} must be at least 0.")
        if "asynchronous" in body:
            _set_asynchronous(sandbox, body.pop("asynchronous"))
        webhooks = WebhookFaults(**body.pop("webhooks")) if "webhooks" in body else None
        sandbox.faults.configure(body)
    except (TypeError, ValueError) as error:
        raise ApiError(400, str(error)) from None
    for name, value in own.items():
        setattr(sandbox.config, name, value)
    if webhooks is not None:
        sandbox.webhooks.set_faults(webhooks)
    return get_faults(sandbox)


def _set_asynchronous(sandbox: Sandbox, value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError("asynchronous must be true or false.")
    sandbox.config.asynchronous = value
    if not value:
        end_transients(sandbox)


@router.get("/green-main")
def green_main(sandbox: AdminDep) -> dict[str, Any]:
    """For every project: each new tip of a protected branch and whether its tree passed CI."""
    reports = [sandbox.green_main.report(path) for path in sandbox.green_main.projects()]
    return {"projects": reports, "green": all(report["green"] for report in reports)}


@router.post("/reset")
async def reset(request: Request, sandbox: AdminDep) -> dict[str, Any]:
    """Forget everything (users, projects, repositories, pipelines, counters, faults); a JSON
    scenario in the body is applied afterwards."""
    raw = await request.body()
    await sandbox.reset()
    if raw.strip():
        try:
            result = await apply_scenario(sandbox, load_scenario(json.loads(raw)))
        except (ScenarioError, ValueError) as error:
            raise ApiError(400, str(error)) from None
        return result.as_dict()
    return {"tokens": {}, "projects": [], "merge_requests": []}


@router.get("/stats")
def stats(sandbox: AdminDep) -> dict[str, Any]:
    store = sandbox.store
    return {
        "pipelines": sandbox.ci.stats(),
        "webhooks": sandbox.webhooks.stats(),
        "merge_requests": {
            state: sum(1 for mr in store.merge_requests.values() if mr.state == state)
            for state in ("opened", "closed", "merged", "locked")
        },
        "users": len(store.users),
        "projects": len(store.projects),
        "calls": sandbox.accounting.snapshot(),
    }


REVIEW_STATES = frozenset({"review_started", "reviewed", "requested_changes", "unreviewed"})


@router.post("/projects/{project_ref:path}/merge_requests/{iid}/review")
async def submit_review(
    project_ref: str, iid: int, request: Request, sandbox: AdminDep
) -> dict[str, Any]:
    """Stand in for GitLab's "Submit review" (UI/GraphQL, no REST): set a reviewer's state,
    e.g. ``{"username": "bob", "state": "requested_changes"}``."""
    body = await request.json()
    project = sandbox.store.project_by_ref(project_ref)
    mr = sandbox.store.merge_request(project.id, iid) if project is not None else None
    if project is None or mr is None:
        raise ApiError(404, "404 Merge Request Not Found")
    user = sandbox.store.user_by_username(str(body.get("username", "")))
    if user is None or user.id not in mr.reviewer_ids:
        raise ApiError(400, "username must name a reviewer of the merge request.")
    state = body.get("state")
    if state not in REVIEW_STATES:
        raise ApiError(400, f"state must be one of {', '.join(sorted(REVIEW_STATES))}.")
    mr.reviewer_states[user.id] = state
    mr.updated_at = sandbox.now()
    return {"username": user.username, "state": state}


@router.get("/pipelines")
def pipelines(sandbox: AdminDep) -> list[dict[str, Any]]:
    """Every pipeline of every project, oldest first, with when its last attempt started and
    finished and how long it ran (simulated time; null while it has not)."""
    store = sandbox.store
    return [
        {
            **pipeline_basic(sandbox, store.projects[p.project_id], p),
            "started_at": iso(p.run.started_at),
            "finished_at": iso(p.run.finished_at),
            "duration": p.run.duration,
            "attempt": p.run.attempt,
        }
        for p in sorted(store.pipelines.values(), key=lambda p: p.id)
    ]


@router.get("/hooks/deliveries")
def deliveries(sandbox: AdminDep) -> list[dict[str, Any]]:
    return [record.as_dict() for record in sandbox.webhooks.deliveries()]
