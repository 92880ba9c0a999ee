"""Users, personal access tokens and projects: creation as the API and scenarios need it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from gitlab_sandbox.git.objects import FileAction, Identity, StartPoint
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import (
    AccessLevel,
    AccessToken,
    Group,
    Project,
    ProjectSettings,
    User,
    hash_token,
    new_token_value,
)


class AccountError(ValueError):
    """A user, token or project could not be created as asked."""


def create_user(
    sandbox: Sandbox,
    username: str,
    *,
    name: str | None = None,
    email: str | None = None,
    admin: bool = False,
    bot: bool = False,
    state: str = "active",
) -> User:
    """A new user; usernames are unique (case-insensitive)."""
    if sandbox.store.user_by_username(username) is not None:
        raise AccountError(f"The username {username!r} is already taken.")
    user = User(
        id=sandbox.store.next_id("user"),
        username=username,
        name=name or username.replace("-", " ").replace("_", " ").title(),
        email=email or f"{username}@sandbox.example",
        state=state,
        bot=bot,
        is_admin=admin,
        created_at=sandbox.now(),
    )
    sandbox.store.namespace_id(username)
    return sandbox.store.add_user(user)


def issue_token(
    sandbox: Sandbox,
    user: User,
    *,
    name: str = "sandbox",
    scopes: Iterable[str] = ("api",),
    expires_at: datetime | None = None,
    value: str | None = None,
) -> tuple[AccessToken, str]:
    """A personal access token for ``user`` and its raw value (given or generated)."""
    raw = value or new_token_value()
    digest = hash_token(raw)
    if digest in sandbox.store.tokens_by_hash:
        raise AccountError("That token value is already in use.")
    token = AccessToken(
        id=sandbox.store.next_id("token"),
        name=name,
        user_id=user.id,
        token_sha256=digest,
        scopes=list(scopes),
        created_at=sandbox.now(),
        expires_at=expires_at,
    )
    sandbox.store.add_token(token)
    return token, raw


def create_project(
    sandbox: Sandbox,
    path_with_namespace: str,
    *,
    creator: User,
    default_branch: str = "main",
    settings: ProjectSettings | None = None,
    visibility: str = "private",
    description: str = "",
) -> Project:
    """A project with an empty bare repository; the creator becomes its owner."""
    namespace, _, path = path_with_namespace.strip("/").rpartition("/")
    if not namespace or not path:
        raise AccountError("A project path needs a namespace: 'group/project'.")
    if sandbox.store.project_by_ref(path_with_namespace) is not None:
        raise AccountError(f"The project {path_with_namespace} already exists.")
    now = sandbox.now()
    project = Project(
        id=sandbox.store.next_id("project"),
        name=path,
        path=path,
        namespace=namespace,
        namespace_id=sandbox.store.namespace_id(namespace),
        creator_id=creator.id,
        default_branch=default_branch,
        description=description,
        visibility=visibility,
        created_at=now,
        last_activity_at=now,
        settings=settings or ProjectSettings(),
        members={creator.id: AccessLevel.OWNER},
    )
    sandbox.init_repo(project)
    return sandbox.store.add_project(project)


def create_group(
    sandbox: Sandbox,
    full_path: str,
    *,
    name: str | None = None,
    visibility: str = "private",
    description: str = "",
) -> Group:
    """A group (``acme``) or subgroup (``acme/cnc``); missing parent groups are made private."""
    clean = full_path.strip("/")
    if not clean or "//" in clean:
        raise AccountError(f"{full_path!r} is not a group path.")
    if sandbox.store.group_by_ref(clean) is not None:
        raise AccountError(f"The group {clean} already exists.")
    parent_path, _, path = clean.rpartition("/")
    parent = None
    if parent_path:
        parent = sandbox.store.group_by_ref(parent_path) or create_group(sandbox, parent_path)
    group = Group(
        id=sandbox.store.namespace_id(clean),
        name=name or path,
        path=path,
        full_path=clean,
        parent_id=parent.id if parent is not None else None,
        visibility=visibility,
        description=description,
        created_at=sandbox.now(),
    )
    return sandbox.store.add_group(group)


def identity_of(user: User) -> Identity:
    """A user as a git author or committer."""
    return Identity(name=user.name, email=user.email)


def commit_files_sync(
    sandbox: Sandbox,
    project: Project,
    branch: str,
    files: Mapping[str, str | bytes | None],
    *,
    message: str,
    author: User,
    start_branch: str | None = None,
) -> str:
    """Write ``files`` (path → content; None deletes) on ``branch`` in one commit; its sha.

    For seeding before the server runs: no reactions, no pipelines.
    """
    repo = sandbox.repo(project)
    existing_ref = branch if repo.branch_sha(branch) else start_branch
    actions = []
    for path, content in files.items():
        exists = existing_ref is not None and repo.read_file(existing_ref, path) is not None
        if content is None:
            actions.append(FileAction(action="delete", file_path=path))
            continue
        data = content.encode() if isinstance(content, str) else content
        actions.append(
            FileAction(action="update" if exists else "create", file_path=path, content=data)
        )
    commit = repo.commit_files(
        branch, actions, message, identity_of(author), start=StartPoint(branch=start_branch)
    )
    return commit.id
