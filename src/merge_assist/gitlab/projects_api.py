"""Users, tokens, projects, webhooks and labels."""

from __future__ import annotations

from typing import Any

from merge_assist.gitlab.core import GitLabCore, ProjectRef
from merge_assist.gitlab.models import (
    Group,
    Hook,
    Label,
    PersonalAccessToken,
    Project,
    ProjectMember,
    User,
    Version,
)

HOOK_EVENTS = (
    "push_events",
    "merge_requests_events",
    "pipeline_events",
    "note_events",
    "job_events",
    "tag_push_events",
    "issues_events",
)


class UsersApi(GitLabCore):
    """The token's own user, token and groups, other users, the GitLab version."""

    async def current_user(self) -> User:
        """The user the token belongs to (``GET /user``)."""
        call = self.api_call("GET", "/user", operation="user.current")
        return User.model_validate(await self.json(call))

    async def get_user(self, user_id: int) -> User:
        """A user by id (``GET /users/:id``)."""
        call = self.api_call(
            "GET", "/users/{user_id}", operation="user.get", path_params={"user_id": user_id}
        )
        return User.model_validate(await self.json(call))

    async def find_user(self, username: str) -> User | None:
        """A user by username (``GET /users?username=``), or None."""
        call = self.api_call("GET", "/users", operation="user.find", params={"username": username})
        found = await self.json(call) or []
        return User.model_validate(found[0]) if found else None

    async def token_self(self) -> PersonalAccessToken:
        """The token's scopes and expiry (``GET /personal_access_tokens/self``)."""
        call = self.api_call("GET", "/personal_access_tokens/self", operation="token.self")
        return PersonalAccessToken.model_validate(await self.json(call))

    async def my_groups(self, *, min_access_level: int = 10, max_pages: int = 20) -> list[Group]:
        """The groups the token's user is a member of, directly or through a parent group, with
        at least ``min_access_level`` (10: Guest) (``GET /groups?min_access_level=``)."""
        return [
            Group.model_validate(item)
            async for item in self.paginate(
                "/groups",
                {"min_access_level": min_access_level, "order_by": "id", "sort": "asc"},
                operation="group.list_mine",
                max_pages=max_pages,
            )
        ]

    async def get_version(self) -> Version:
        """GitLab's version (``GET /version``); also a cheap reachability check."""
        call = self.api_call("GET", "/version", operation="version.get")
        return Version.model_validate(await self.json(call))


class ProjectsApi(GitLabCore):
    """Projects, their webhooks and their labels."""

    async def get_project(self, project: ProjectRef) -> Project:
        """A project by id or full path (``GET /projects/:id``)."""
        call = self.api_call(
            "GET", "/projects/{project}", operation="project.get", path_params={"project": project}
        )
        return Project.model_validate(await self.json(call))

    async def list_projects(
        self,
        *,
        membership: bool = True,
        search: str | None = None,
        min_access_level: int | None = None,
        archived: bool | None = False,
        max_pages: int | None = None,
    ) -> list[Project]:
        """Projects visible to the token's user (``GET /projects``), by default its own."""
        params = {
            "membership": membership,
            "search": search,
            "min_access_level": min_access_level,
            "archived": archived,
            "simple": False,
            "order_by": "id",
            "sort": "asc",
        }
        return [
            Project.model_validate(item)
            async for item in self.paginate(
                "/projects", params, operation="project.list", max_pages=max_pages
            )
        ]

    async def find_project_member(self, project: ProjectRef, username: str) -> ProjectMember | None:
        """A member of the project (inherited ones too) by exact username, or None
        (``GET /projects/:id/members/all?query=``)."""
        wanted = username.strip().lower()
        if not wanted:
            return None
        async for item in self.paginate(
            "/projects/{project}/members/all",
            {"query": wanted},
            path_params={"project": project},
            operation="member.find",
        ):
            member = ProjectMember.model_validate(item)
            if member.username.lower() == wanted:
                return member
        return None

    async def list_project_hooks(self, project: ProjectRef) -> list[Hook]:
        """The project's webhooks (``GET /projects/:id/hooks``)."""
        return [
            Hook.model_validate(item)
            async for item in self.paginate(
                "/projects/{project}/hooks",
                path_params={"project": project},
                operation="hook.list",
            )
        ]

    async def get_project_hook(self, project: ProjectRef, hook_id: int) -> Hook:
        """One webhook, with GitLab's ``alert_status`` (``GET /projects/:id/hooks/:hook_id``)."""
        call = self.api_call(
            "GET",
            "/projects/{project}/hooks/{hook_id}",
            operation="hook.get",
            path_params={"project": project, "hook_id": hook_id},
        )
        return Hook.model_validate(await self.json(call))

    async def create_project_hook(
        self,
        project: ProjectRef,
        url: str,
        *,
        token: str | None = None,
        events: tuple[str, ...] = (
            "merge_requests_events",
            "pipeline_events",
            "note_events",
        ),
        enable_ssl_verification: bool = True,
    ) -> Hook:
        """Add a webhook (``POST /projects/:id/hooks``); ``token`` becomes ``X-Gitlab-Token``."""
        unknown = set(events) - set(HOOK_EVENTS)
        if unknown:
            raise ValueError(f"Unknown webhook events: {', '.join(sorted(unknown))}.")
        body: dict[str, Any] = {name: name in events for name in HOOK_EVENTS}
        body.update(url=url, enable_ssl_verification=enable_ssl_verification)
        if token:
            body["token"] = token
        call = self.api_call(
            "POST",
            "/projects/{project}/hooks",
            operation="hook.create",
            path_params={"project": project},
            json=body,
        )
        return Hook.model_validate(await self.json(call))

    async def test_project_hook(
        self, project: ProjectRef, hook_id: int, trigger: str = "push_events"
    ) -> None:
        """Make GitLab send a test delivery now (``POST /projects/:id/hooks/:hook_id/test/
        :trigger``, GitLab 17.1+); GitLab answers 422 with the reason when the receiver did
        not answer 2xx."""
        call = self.api_call(
            "POST",
            "/projects/{project}/hooks/{hook_id}/test/{trigger}",
            operation="hook.test",
            path_params={"project": project, "hook_id": hook_id, "trigger": trigger},
        )
        await self.send(call)

    async def delete_project_hook(self, project: ProjectRef, hook_id: int) -> None:
        """Remove a webhook (``DELETE /projects/:id/hooks/:hook_id``)."""
        call = self.api_call(
            "DELETE",
            "/projects/{project}/hooks/{hook_id}",
            operation="hook.delete",
            path_params={"project": project, "hook_id": hook_id},
        )
        await self.send(call)

    async def list_labels(self, project: ProjectRef, *, search: str | None = None) -> list[Label]:
        """The project's labels (``GET /projects/:id/labels``)."""
        return [
            Label.model_validate(item)
            async for item in self.paginate(
                "/projects/{project}/labels",
                {"search": search},
                path_params={"project": project},
                operation="label.list",
            )
        ]

    async def create_label(
        self, project: ProjectRef, name: str, *, color: str, description: str | None = None
    ) -> Label:
        """Create a label (``POST /projects/:id/labels``); 409 if it exists."""
        call = self.api_call(
            "POST",
            "/projects/{project}/labels",
            operation="label.create",
            path_params={"project": project},
            json={"name": name, "color": color, "description": description},
        )
        return Label.model_validate(await self.json(call))
