"""``GET /api/config``: what the dashboard may know before anyone signs in."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from merge_assist.kit.web import Resources

router = APIRouter(tags=["config"])


class PublicConfig(BaseModel):
    """Nothing secret: the GitLab address (for the token page link) and the version."""

    gitlab_url: str | None
    version: str


@router.get("/api/config")
async def public_config(res: Resources) -> PublicConfig:
    """The GitLab URL the product talks to, so the login page can link to its token page."""
    url = res.settings.gitlab_url
    return PublicConfig(gitlab_url=url.rstrip("/") if url else None, version="0.1.0")
