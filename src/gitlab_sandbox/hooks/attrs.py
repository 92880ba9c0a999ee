"""Objects shared by every hook payload: project, repository, user, label, commit, times.

Field names and formats follow GitLab's "Webhook events" documentation (timestamps like
``2024-01-02 03:04:05 UTC``, commit timestamps in ISO 8601 with offset).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitlab_sandbox.hooks.models import HookCommit, HookLabel, HookProject, HookUser

JSON = dict[str, Any]


def gitlab_time(moment: datetime | None) -> str | None:
    """GitLab's hook timestamp format: ``2024-01-02 03:04:05 UTC``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_time(moment: datetime | None) -> str | None:
    """ISO 8601 with offset, as commit timestamps appear in hooks."""
    return None if moment is None else moment.isoformat(timespec="seconds")


def project_attrs(project: HookProject) -> JSON:
    """The ``project`` object (also ``source``/``target`` of merge requests)."""
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "web_url": project.web_url,
        "avatar_url": project.avatar_url,
        "git_ssh_url": project.git_ssh_url,
        "git_http_url": project.git_http_url,
        "namespace": project.namespace,
        "visibility_level": project.visibility_level,
        "path_with_namespace": project.path_with_namespace,
        "default_branch": project.default_branch,
        "ci_config_path": project.ci_config_path,
        "homepage": project.web_url,
        "url": project.git_http_url,
        "ssh_url": project.git_ssh_url,
        "http_url": project.git_http_url,
    }


def repository_attrs(project: HookProject) -> JSON:
    """The ``repository`` object."""
    return {
        "name": project.name,
        "url": project.git_http_url,
        "description": project.description,
        "homepage": project.web_url,
        "git_http_url": project.git_http_url,
        "git_ssh_url": project.git_ssh_url,
        "visibility_level": project.visibility_level,
    }


def user_attrs(user: HookUser) -> JSON:
    """The ``user`` object (and each assignee/reviewer)."""
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "avatar_url": user.avatar_url,
        "email": user.email,
    }


def label_attrs(label: HookLabel | str, project_id: int | None = None) -> JSON:
    """A label object; a bare title gets a stable id."""
    if isinstance(label, str):
        label = HookLabel.named(label, project_id)
    return {
        "id": label.id,
        "title": label.title,
        "color": label.color,
        "project_id": label.project_id,
        "created_at": gitlab_time(label.created_at),
        "updated_at": gitlab_time(label.updated_at),
        "template": False,
        "description": label.description,
        "type": label.type,
        "group_id": label.group_id,
    }


def commit_attrs(commit: HookCommit, *, with_files: bool = False) -> JSON:
    """A commit object (``with_files`` adds added/modified/removed, as push hooks do)."""
    attrs: JSON = {
        "id": commit.id,
        "message": commit.message,
        "title": commit.title or commit.message.split("\n", 1)[0],
        "timestamp": iso_time(commit.timestamp),
        "url": commit.url,
        "author": {"name": commit.author_name, "email": commit.author_email},
    }
    if with_files:
        attrs |= {
            "added": list(commit.added),
            "modified": list(commit.modified),
            "removed": list(commit.removed),
        }
    return attrs
