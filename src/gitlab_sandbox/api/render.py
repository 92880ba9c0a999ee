"""GitLab's JSON shapes for users, tokens, projects, commits, branches and files."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitlab_sandbox.git.objects import CommitInfo
from gitlab_sandbox.sandbox import GITLAB_VERSION, Sandbox
from gitlab_sandbox.store import AccessLevel, AccessToken, Group, Project, ProtectedBranch, User

JSON = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    """GitLab's timestamp format: ``2024-05-01T12:00:00.000Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_basic(sandbox: Sandbox, user: User | None) -> JSON | None:
    """The user object embedded in other resources."""
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "locked": user.state == "blocked",
        "avatar_url": None,
        "web_url": f"{sandbox.base_url}/{user.username}",
    }


def user_by_id(sandbox: Sandbox, user_id: int | None) -> JSON | None:
    return user_basic(sandbox, sandbox.store.users.get(user_id)) if user_id is not None else None


def user_full(sandbox: Sandbox, user: User, *, is_self: bool, viewer_is_admin: bool) -> JSON:
    """``GET /user`` and ``GET /users/:id``."""
    data = user_basic(sandbox, user) or {}
    data.update(
        {
            "created_at": iso(user.created_at),
            "bio": "",
            "location": "",
            "public_email": None,
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "website_url": "",
            "organization": "",
            "job_title": "",
            "pronouns": None,
            "bot": user.bot,
            "work_information": None,
            "followers": 0,
            "following": 0,
            "local_time": None,
        }
    )
    if is_self or viewer_is_admin:
        data.update(
            {
                "last_sign_in_at": None,
                "confirmed_at": iso(user.created_at),
                "last_activity_on": None,
                "email": user.email,
                "theme_id": 1,
                "color_scheme_id": 1,
                "projects_limit": 100000,
                "current_sign_in_at": None,
                "identities": [],
                "can_create_group": True,
                "can_create_project": True,
                "two_factor_enabled": False,
                "external": False,
                "private_profile": False,
                "commit_email": user.email,
                "namespace_id": None,
            }
        )
    if viewer_is_admin or (is_self and user.is_admin):
        data["is_admin"] = user.is_admin
    return data


def token(sandbox: Sandbox, value: AccessToken) -> JSON:
    """``GET /personal_access_tokens/self``."""
    return {
        "id": value.id,
        "name": value.name,
        "revoked": value.revoked,
        "created_at": iso(value.created_at),
        "description": None,
        "scopes": list(value.scopes),
        "user_id": value.user_id,
        "last_used_at": iso(value.last_used_at),
        "active": not value.revoked
        and (value.expires_at is None or value.expires_at > sandbox.now()),
        "expires_at": value.expires_at.date().isoformat() if value.expires_at else None,
    }


def version() -> JSON:
    return {
        "version": GITLAB_VERSION,
        "revision": "sandbox",
        "kas": {"enabled": False},
        "enterprise": True,
    }


def project(sandbox: Sandbox, value: Project, viewer: User | None = None) -> JSON:
    """A project as ``GET /projects/:id`` returns it (with the viewer's permissions)."""
    base = sandbox.base_url
    settings = value.settings
    level = sandbox.store.access_level(value, viewer) if viewer else 0
    access = {"access_level": level, "notification_level": 3} if level else None
    return {
        "id": value.id,
        "description": value.description,
        "name": value.name,
        "name_with_namespace": f"{value.namespace} / {value.name}",
        "path": value.path,
        "path_with_namespace": value.path_with_namespace,
        "created_at": iso(value.created_at),
        "default_branch": value.default_branch,
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@sandbox.invalid:{value.path_with_namespace}.git",
        "http_url_to_repo": f"{base}/{value.path_with_namespace}.git",
        "web_url": f"{base}/{value.path_with_namespace}",
        "readme_url": None,
        "forks_count": 0,
        "avatar_url": None,
        "star_count": 0,
        "last_activity_at": iso(value.last_activity_at),
        "namespace": {
            "id": value.namespace_id,
            "name": value.namespace.rsplit("/", 1)[-1],
            "path": value.namespace.rsplit("/", 1)[-1],
            "kind": "user" if sandbox.store.user_by_username(value.namespace) else "group",
            "full_path": value.namespace,
            "parent_id": None,
            "avatar_url": None,
            "web_url": f"{base}/{value.namespace}",
        },
        "visibility": value.visibility,
        "archived": False,
        "empty_repo": not sandbox.repo(value).branches(),
        "creator_id": value.creator_id,
        "issues_enabled": True,
        "merge_requests_enabled": True,
        "jobs_enabled": True,
        "wiki_enabled": False,
        "snippets_enabled": False,
        "lfs_enabled": True,
        "shared_runners_enabled": True,
        "open_issues_count": 0,
        "merge_method": settings.merge_method,
        "squash_option": settings.squash_option,
        "only_allow_merge_if_pipeline_succeeds": settings.only_allow_merge_if_pipeline_succeeds,
        "allow_merge_on_skipped_pipeline": settings.allow_merge_on_skipped_pipeline,
        "only_allow_merge_if_all_discussions_are_resolved": (
            settings.only_allow_merge_if_all_discussions_are_resolved
        ),
        "remove_source_branch_after_merge": settings.remove_source_branch_after_merge,
        "approvals_before_merge": settings.approvals_before_merge,
        "reset_approvals_on_push": settings.reset_approvals_on_push,
        "merge_commit_template": settings.merge_commit_template,
        "squash_commit_template": settings.squash_commit_template,
        "resolve_outdated_diff_discussions": False,
        "printing_merge_request_link_enabled": True,
        "merge_trains_enabled": False,
        "merge_pipelines_enabled": settings.merge_pipelines_enabled,
        "ci_config_path": None,
        "permissions": {"project_access": access, "group_access": None},
        "_links": {
            "self": f"{base}/api/v4/projects/{value.id}",
            "merge_requests": f"{base}/api/v4/projects/{value.id}/merge_requests",
            "repo_branches": f"{base}/api/v4/projects/{value.id}/repository/branches",
            "members": f"{base}/api/v4/projects/{value.id}/members",
        },
    }


def group(sandbox: Sandbox, value: Group) -> JSON:
    """``GET /groups`` and ``GET /groups/:id`` (the fields clients read)."""
    names = [g.name for g in reversed(sandbox.store.group_ancestors(value))]
    return {
        "id": value.id,
        "web_url": f"{sandbox.base_url}/groups/{value.full_path}",
        "name": value.name,
        "path": value.path,
        "description": value.description,
        "visibility": value.visibility,
        "full_name": " / ".join(names),
        "full_path": value.full_path,
        "parent_id": value.parent_id,
        "created_at": iso(value.created_at),
        "avatar_url": None,
        "request_access_enabled": True,
        "share_with_group_lock": False,
        "require_two_factor_authentication": False,
        "project_creation_level": "developer",
        "subgroup_creation_level": "maintainer",
    }


def member(sandbox: Sandbox, user: User, level: int) -> JSON:
    data = user_basic(sandbox, user) or {}
    data.update({"access_level": level, "created_at": iso(user.created_at), "expires_at": None})
    return data


def protected_branch(rule: ProtectedBranch) -> JSON:
    def levels(level: int) -> list[JSON]:
        names: dict[int, str] = {
            AccessLevel.NO_ACCESS: "No one",
            AccessLevel.DEVELOPER: "Developers + Maintainers",
            AccessLevel.MAINTAINER: "Maintainers",
        }
        description = names.get(level, "Maintainers")
        return [
            {
                "id": rule.id,
                "access_level": level,
                "access_level_description": description,
                "user_id": None,
                "group_id": None,
            }
        ]

    return {
        "id": rule.id,
        "name": rule.name,
        "push_access_levels": levels(rule.push_access_level),
        "merge_access_levels": levels(rule.merge_access_level),
        "unprotect_access_levels": [],
        "allow_force_push": rule.allow_force_push,
        "code_owner_approval_required": False,
    }


def commit(sandbox: Sandbox, value: Project, info: CommitInfo) -> JSON:
    """A commit as the commits and branches APIs return it."""
    return {
        "id": info.id,
        "short_id": info.short_id,
        "created_at": iso(info.committed_date),
        "parent_ids": list(info.parent_ids),
        "title": info.title,
        "message": info.message,
        "author_name": info.author.name,
        "author_email": info.author.email,
        "authored_date": iso(info.authored_date),
        "committer_name": info.committer.name,
        "committer_email": info.committer.email,
        "committed_date": iso(info.committed_date),
        "trailers": {},
        "extended_trailers": {},
        "web_url": f"{sandbox.base_url}/{value.path_with_namespace}/-/commit/{info.id}",
    }
