"""GitLab REST API v4 routers (mounted under ``/api/v4``)."""

from __future__ import annotations

from fastapi import APIRouter

from gitlab_sandbox.api import (
    branches,
    commits,
    files,
    groups,
    merge_requests,
    merge_trains,
    mr_actions,
    notes,
    pipelines,
    projects,
    users,
)


def build_api_router() -> APIRouter:
    """Every API v4 route, to include with the ``/api/v4`` prefix."""
    router = APIRouter()
    for module in (
        users,
        groups,
        projects,
        branches,
        commits,
        files,
        merge_requests,
        merge_trains,
        mr_actions,
        notes,
        pipelines,
    ):
        router.include_router(module.router)
    return router
