"""API shapes of projects, their configuration and permissions (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from merge_assist.projects.config import ProjectConfig

GITLAB_PATH_MAX = 512


class ProjectOut(BaseModel):
    """A project as the API shows it (never the webhook secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    gitlab_project_id: int
    path_with_namespace: str
    name: str
    web_url: str | None
    default_branch: str | None
    is_active: bool
    created_at: datetime
    webhook_id: int | None


class ConfigChanges(BaseModel):
    """Fields to change in a project's configuration; absent fields keep their value.

    ``labels`` is merged key by key, so ``{"labels": {"rejected": "Denied"}}`` renames one label.
    Types are checked here; ranges and names by :func:`projects.config.build_config`.
    """

    model_config = ConfigDict(extra="forbid")

    target_branches: list[str] | None = None
    strategy: str | None = None
    batch_size: int | None = None
    train_depth: int | None = None
    parallel_tests: int | None = None
    pipeline_retries: int | None = None
    skip_ci_on_landing: bool | None = None
    polling_interval_seconds: int | None = None
    labels: dict[str, str] | None = None
    webhook_enabled: bool | None = None
    max_rejections: int | None = None
    landing: str | None = None
    ai_debug_enabled: bool | None = None
    explain_on_rejection: bool | None = None

    def changes(self) -> dict[str, object]:
        """Only the fields the caller sent."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class OnboardRequest(ConfigChanges):
    """``POST /api/projects``: a GitLab project id or ``group/path``, and optional settings."""

    gitlab_project: int | str = Field(description="GitLab's numeric id or full path.")

    @field_validator("gitlab_project")
    @classmethod
    def _usable_reference(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if value < 1:
                raise ValueError("a GitLab project id is a positive number")
            return value
        text = value.strip().strip("/")
        if text.isdigit():
            return int(text)
        if not text or len(text) > GITLAB_PATH_MAX or "/" not in text:
            raise ValueError("give the GitLab project id or its full path, like group/project")
        return text

    def changes(self) -> dict[str, object]:
        """The configuration fields sent (not the project reference)."""
        return {k: v for k, v in super().changes().items() if k != "gitlab_project"}


class ConfigOut(ProjectConfig):
    """A project's configuration with who changed it last and when."""

    project_id: int
    updated_at: datetime
    updated_by: str | None


class PermissionGrant(BaseModel):
    """Set one user's permissions on a project; both false removes the row."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = Field(ge=1, le=2**31 - 1, description="The user's id.")
    can_manage: bool = False
    can_set_priority: bool = False


class PermissionOut(BaseModel):
    """One user's permissions on a project."""

    user_id: int
    username: str
    can_manage: bool
    can_set_priority: bool


class CheckOut(BaseModel):
    """One line of the onboarding check."""

    name: str
    status: Literal["ok", "warning", "failing"]
    sentence: str
    fix: str | None


class OnboardingCheckOut(BaseModel):
    """``POST /api/projects/{id}/check``: every line; ``ok`` when none is failing."""

    project: str
    bot_username: str | None
    ok: bool
    checks: list[CheckOut]
