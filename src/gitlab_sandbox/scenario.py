"""Scenarios: JSON or YAML files that create users, tokens, projects, files, branches and MRs.

See ``docs/sandbox.md`` for the format. ``apply_scenario`` returns the raw token values it
created (the store keeps only their hashes), so a harness can hand them to clients.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gitlab_sandbox.ci import CiRules
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.accounts import (
    AccountError,
    commit_files_sync,
    create_group,
    create_project,
    create_user,
    issue_token,
)
from gitlab_sandbox.services.merge_requests import (
    MergeRequestError,
    NewMergeRequest,
    create_merge_request,
)
from gitlab_sandbox.services.pipelines import create_pipeline
from gitlab_sandbox.store import (
    AccessLevel,
    Label,
    Project,
    ProjectHook,
    ProjectSettings,
    ProtectedBranch,
    User,
)

LEVELS = {
    "no_access": AccessLevel.NO_ACCESS,
    "no one": AccessLevel.NO_ACCESS,
    "guest": AccessLevel.GUEST,
    "reporter": AccessLevel.REPORTER,
    "developer": AccessLevel.DEVELOPER,
    "maintainer": AccessLevel.MAINTAINER,
    "owner": AccessLevel.OWNER,
}


class ScenarioError(ValueError):
    """The scenario cannot be applied; the message says where and why."""


@dataclass
class SeedResult:
    """What a scenario created: the raw token of every user (first token) and all tokens."""

    tokens: dict[str, str] = field(default_factory=dict)
    all_tokens: dict[str, list[str]] = field(default_factory=dict)
    projects: list[str] = field(default_factory=list)
    merge_requests: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens": dict(self.tokens),
            "projects": list(self.projects),
            "merge_requests": list(self.merge_requests),
        }


def load_scenario(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A scenario from a dict, a JSON or YAML file path, or JSON/YAML text."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    text = path.read_text(encoding="utf-8") if path.exists() else str(source)
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ScenarioError(f"The scenario is not valid JSON/YAML: {error}") from None
    if not isinstance(data, dict):
        raise ScenarioError("A scenario must be a mapping with users, projects, ...")
    return data


def ci_rules(data: Mapping[str, Any]) -> CiRules:
    """The ``ci:`` section as ``CiRules`` (defaults where absent)."""
    section = dict(data.get("ci") or {})
    try:
        if "duration_seconds" in section:
            low, high = section["duration_seconds"]
            section["duration_seconds"] = (float(low), float(high))
        return CiRules(**section)
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"ci: {error}") from None


def access_level(value: Any, where: str) -> int:
    if isinstance(value, int):
        return value
    level = LEVELS.get(str(value).strip().lower())
    if level is None:
        raise ScenarioError(f"{where}: unknown access level {value!r} (use {', '.join(LEVELS)}).")
    return int(level)


def _expiry(spec: Mapping[str, Any], now: datetime) -> datetime | None:
    if spec.get("expires_in_days") is not None:
        return now + timedelta(days=float(spec["expires_in_days"]))
    value = spec.get("expires_at")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def apply_scenario(sandbox: Sandbox, data: Mapping[str, Any]) -> SeedResult:
    """Create everything the scenario describes in ``sandbox``."""
    result = SeedResult()
    try:
        for spec in data.get("users") or []:
            _seed_user(sandbox, spec, result)
        for spec in data.get("groups") or []:
            _seed_group(sandbox, spec)
        for spec in data.get("projects") or []:
            project = _seed_project(sandbox, spec, data)
            result.projects.append(project.path_with_namespace)
            for mr_spec in spec.get("merge_requests") or []:
                await _seed_merge_request(sandbox, project, mr_spec, result)
        for mr_spec in data.get("merge_requests") or []:
            target = sandbox.store.project_by_ref(str(mr_spec.get("project", "")))
            if target is None:
                raise ScenarioError(f"merge_requests: unknown project {mr_spec.get('project')!r}.")
            await _seed_merge_request(sandbox, target, mr_spec, result)
    except (AccountError, MergeRequestError, KeyError, TypeError) as error:
        raise ScenarioError(f"The scenario could not be applied: {error}") from None
    return result


def _seed_user(sandbox: Sandbox, spec: Mapping[str, Any], result: SeedResult) -> User:
    username = str(spec["username"])
    user = create_user(
        sandbox,
        username,
        name=spec.get("name"),
        email=spec.get("email"),
        admin=bool(spec.get("admin", False)),
        bot=bool(spec.get("bot", False)),
        state=str(spec.get("state", "active")),
    )
    tokens = spec.get("tokens")
    if tokens is None:
        tokens = [{"name": "default", "scopes": ["api"]}]
    for index, token_spec in enumerate(tokens):
        _, raw = issue_token(
            sandbox,
            user,
            name=str(token_spec.get("name", f"token-{index + 1}")),
            scopes=list(token_spec.get("scopes", ["api"])),
            expires_at=_expiry(token_spec, sandbox.now()),
            value=token_spec.get("value"),
        )
        result.all_tokens.setdefault(username, []).append(raw)
        result.tokens.setdefault(username, raw)
    return user


def _seed_group(sandbox: Sandbox, spec: Mapping[str, Any]) -> None:
    path = str(spec["path"])
    group = sandbox.store.group_by_ref(path) or create_group(
        sandbox,
        path,
        name=spec.get("name"),
        visibility=str(spec.get("visibility", "private")),
        description=str(spec.get("description", "")),
    )
    for username, level in (spec.get("members") or {}).items():
        member = _user(sandbox, str(username), f"group {path} members")
        group.members[member.id] = access_level(level, f"group {path} members")


def _user(sandbox: Sandbox, username: str, where: str) -> User:
    user = sandbox.store.user_by_username(username)
    if user is None:
        raise ScenarioError(f"{where}: unknown user {username!r}.")
    return user


def _owner(sandbox: Sandbox, spec: Mapping[str, Any]) -> User:
    if spec.get("owner"):
        return _user(sandbox, str(spec["owner"]), f"project {spec['path']}")
    users = sorted(sandbox.store.users.values(), key=lambda u: u.id)
    admins = [u for u in users if u.is_admin]
    if not users:
        raise ScenarioError(f"project {spec['path']}: create a user first.")
    return (admins or users)[0]


def _seed_project(sandbox: Sandbox, spec: Mapping[str, Any], data: Mapping[str, Any]) -> Project:
    path = str(spec["path"])
    owner = _owner(sandbox, spec)
    settings = ProjectSettings()
    for name, value in (spec.get("settings") or {}).items():
        if not hasattr(settings, name):
            raise ScenarioError(f"project {path}: unknown setting {name!r}.")
        setattr(settings, name, value)
    project = create_project(
        sandbox,
        path,
        creator=owner,
        default_branch=str(spec.get("default_branch", "main")),
        settings=settings,
        visibility=str(spec.get("visibility", "private")),
        description=str(spec.get("description", "")),
    )
    for username, level in (spec.get("members") or {}).items():
        member = _user(sandbox, str(username), f"project {path} members")
        project.members[member.id] = access_level(level, f"project {path} members")
    _seed_protection(sandbox, project, spec)
    _seed_labels(sandbox, project, spec)
    _seed_hooks(sandbox, project, spec)
    _seed_repository(
        sandbox, project, spec, owner, run_pipelines=bool(data.get("run_pipelines", True))
    )
    return project


def _seed_protection(sandbox: Sandbox, project: Project, spec: Mapping[str, Any]) -> None:
    for rule in spec.get("protected_branches") or []:
        rule = {"name": rule} if isinstance(rule, str) else rule
        where = f"project {project.path_with_namespace} protected_branches"
        project.protected_branches.append(
            ProtectedBranch(
                id=sandbox.store.next_id("protected_branch"),
                name=str(rule["name"]),
                push_access_level=access_level(rule.get("push_access_level", "maintainer"), where),
                merge_access_level=access_level(
                    rule.get("merge_access_level", "maintainer"), where
                ),
                allow_force_push=bool(rule.get("allow_force_push", False)),
            )
        )


def _seed_labels(sandbox: Sandbox, project: Project, spec: Mapping[str, Any]) -> None:
    for label in spec.get("labels") or []:
        label = {"name": label} if isinstance(label, str) else label
        project.labels.append(
            Label(
                id=sandbox.store.next_id("label"),
                name=str(label["name"]),
                color=str(label.get("color", "#6699cc")),
                description=label.get("description"),
            )
        )


def _seed_hooks(sandbox: Sandbox, project: Project, spec: Mapping[str, Any]) -> None:
    for hook in spec.get("hooks") or []:
        project.hooks.append(
            ProjectHook(
                id=sandbox.store.next_id("hook"),
                url=str(hook["url"]),
                token=hook.get("token"),
                push_events=bool(hook.get("push_events", True)),
                merge_requests_events=bool(hook.get("merge_requests_events", False)),
                pipeline_events=bool(hook.get("pipeline_events", False)),
                note_events=bool(hook.get("note_events", False)),
                job_events=bool(hook.get("job_events", False)),
                created_at=sandbox.now(),
            )
        )


def _seed_repository(
    sandbox: Sandbox, project: Project, spec: Mapping[str, Any], owner: User, *, run_pipelines: bool
) -> None:
    files = spec.get("files") or {"README.md": f"# {project.name}\n"}
    branch = project.default_branch
    sha = commit_files_sync(sandbox, project, branch, files, message="Initial commit", author=owner)
    tips = {branch: sha}
    for name, branch_spec in (spec.get("branches") or {}).items():
        branch_spec = branch_spec or {}
        start = str(branch_spec.get("from", branch))
        author = (
            _user(sandbox, str(branch_spec["author"]), name) if branch_spec.get("author") else owner
        )
        changes = branch_spec.get("files") or {}
        if changes:
            message = str(branch_spec.get("message", f"Update {name}"))
            tips[name] = commit_files_sync(
                sandbox, project, name, changes, message=message, author=author, start_branch=start
            )
        else:
            tips[name] = sandbox.repo(project).create_branch(name, start)
    if run_pipelines:
        for name, tip in tips.items():
            create_pipeline(sandbox, project, sha=tip, ref=name, source="push", user_id=owner.id)


async def _seed_merge_request(
    sandbox: Sandbox, project: Project, spec: Mapping[str, Any], result: SeedResult
) -> None:
    where = f"merge request {spec.get('title', '?')!r}"
    author = (
        _user(sandbox, str(spec["author"]), where)
        if spec.get("author")
        else _owner(sandbox, {"path": project.path_with_namespace})
    )
    source = str(spec["source_branch"])
    target = str(spec.get("target_branch", project.default_branch))
    repo = sandbox.repo(project)
    if spec.get("files"):
        message = str(spec.get("message", spec.get("title", f"Update {source}")))
        tip = commit_files_sync(
            sandbox,
            project,
            source,
            spec["files"],
            message=message,
            author=author,
            start_branch=target,
        )
        create_pipeline(sandbox, project, sha=tip, ref=source, source="push", user_id=author.id)
    elif repo.branch_sha(source) is None:
        raise ScenarioError(f"{where}: branch {source!r} does not exist (give it files).")
    title = str(spec.get("title", source))
    if spec.get("draft") and not title.lower().startswith("draft:"):
        title = f"Draft: {title}"
    request = NewMergeRequest(
        title=title,
        source_branch=source,
        target_branch=target,
        description=str(spec.get("description", "")),
        assignee_ids=tuple(_user(sandbox, str(u), where).id for u in spec.get("assignees") or []),
        reviewer_ids=tuple(_user(sandbox, str(u), where).id for u in spec.get("reviewers") or []),
        labels=tuple(str(label) for label in spec.get("labels") or []),
        squash=spec.get("squash"),
        remove_source_branch=spec.get("remove_source_branch"),
    )
    mr = await create_merge_request(sandbox, project, author, request)
    result.merge_requests.append(f"{project.path_with_namespace}!{mr.iid}")
