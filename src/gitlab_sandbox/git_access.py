"""How git over HTTP sees the sandbox: tokens, members, protected branches, push reactions."""

from __future__ import annotations

from dataclasses import dataclass

from gitlab_sandbox.git.lfs_check import install_hook
from gitlab_sandbox.git.objects import ZERO_SHA
from gitlab_sandbox.git.services import PushEnvironment
from gitlab_sandbox.git.smart_http import GitTarget, RefUpdate
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.permissions import (
    FORCE_PUSH_REFUSAL,
    PROTECTED_PUSH_REFUSAL,
    can_force_push,
    can_push,
)
from gitlab_sandbox.services.pushes import BranchUpdate, branches_updated
from gitlab_sandbox.store import AccessLevel, AccessToken, User

READ_SCOPES = frozenset({"api", "read_api", "read_repository", "write_repository"})
WRITE_SCOPES = frozenset({"api", "write_repository"})
DELETE_PROTECTED_REFUSAL = "You are not allowed to delete protected branches from this project."


@dataclass(frozen=True)
class GitPrincipal:
    """A user authenticated over git HTTP with one of their tokens."""

    user: User
    token: AccessToken


class SandboxGitAccess:
    """The ``GitAccess`` the git smart HTTP router asks."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def repo_for(self, namespace_path: str) -> GitTarget | None:
        project = self.sandbox.store.project_by_ref(namespace_path)
        if (
            project is None
            or project.path_with_namespace.lower() != namespace_path.strip("/").lower()
        ):
            return None
        return GitTarget(
            repo=self.sandbox.repo(project),
            project_id=project.id,
            full_path=project.path_with_namespace,
            write_lock=self.sandbox.store.project_lock(project.id),
        )

    def push_environment(self, principal: GitPrincipal, target: GitTarget) -> PushEnvironment:
        """GitLab's pre-receive checks (LFS locks of others) and the pusher they see."""
        del target
        hooks = install_hook(self.sandbox.config.data_dir / "git-hooks")
        return PushEnvironment(
            config={"core.hooksPath": str(hooks)}, env={"GL_USERNAME": principal.user.username}
        )

    def authenticate(self, username: str, password: str) -> GitPrincipal | None:
        """A personal access token as the password (any username, as GitLab accepts)."""
        del username
        token = self.sandbox.store.token_by_value(password) if password else None
        if token is None or token.revoked:
            return None
        if token.expires_at is not None and token.expires_at <= self.sandbox.now():
            return None
        user = self.sandbox.store.users.get(token.user_id)
        if user is None or user.state != "active":
            return None
        token.last_used_at = self.sandbox.now()
        return GitPrincipal(user, token)

    def can_read(self, principal: GitPrincipal | None, target: GitTarget) -> bool:
        project = self.sandbox.store.projects[target.project_id]
        if principal is None:
            return project.visibility == "public"
        if not READ_SCOPES & set(principal.token.scopes):
            return False
        level = self.sandbox.store.access_level(project, principal.user)
        return level >= AccessLevel.REPORTER or project.visibility == "public"

    def check_push(
        self, principal: GitPrincipal, target: GitTarget, updates: list[RefUpdate]
    ) -> str | None:
        """None when every update is allowed, else GitLab's refusal sentence."""
        project = self.sandbox.store.projects[target.project_id]
        if not WRITE_SCOPES & set(principal.token.scopes):
            return "You are not allowed to upload code."
        if self.sandbox.store.access_level(project, principal.user) < AccessLevel.DEVELOPER:
            return "You are not allowed to push code to this project."
        for update in updates:
            if not update.ref.startswith("refs/heads/"):
                if update.ref.startswith("refs/merge-requests/"):
                    return "You are not allowed to push to merge request refs."
                continue
            branch = update.ref.removeprefix("refs/heads/")
            refusal = self._branch_refusal(principal, target, branch, update)
            if refusal is not None:
                return refusal
        return None

    def _branch_refusal(
        self, principal: GitPrincipal, target: GitTarget, branch: str, update: RefUpdate
    ) -> str | None:
        project = self.sandbox.store.projects[target.project_id]
        protected = self.sandbox.store.protection_for(project, branch) is not None
        if update.new == ZERO_SHA:
            if protected or branch == project.default_branch:
                return DELETE_PROTECTED_REFUSAL
            return None
        if not can_push(self.sandbox, project, principal.user, branch):
            return PROTECTED_PUSH_REFUSAL
        if (
            protected
            and update.old != ZERO_SHA
            and not can_force_push(self.sandbox, project, branch)
        ):
            # The new objects are not in the repository yet: a force push is one whose old tip
            # is not already known to lie under the new one. We can only tell after receiving
            # the pack, so check ancestry when the new commit is already present.
            repo = target.repo
            if repo.resolve(update.new) is not None and not repo.is_ancestor(
                update.old, update.new
            ):
                return FORCE_PUSH_REFUSAL
        return None

    async def after_push(
        self,
        principal: GitPrincipal,
        target: GitTarget,
        updates: list[RefUpdate],
        push_options: list[str],
    ) -> None:
        """Run GitLab's reactions for the branches the push moved."""
        project = self.sandbox.store.projects.get(target.project_id)
        if project is None:
            return
        branch_updates = [
            BranchUpdate.from_shas(u.ref.removeprefix("refs/heads/"), u.old, u.new)
            for u in updates
            if u.ref.startswith("refs/heads/")
        ]
        if branch_updates:
            await branches_updated(
                self.sandbox, project, branch_updates, principal.user, push_options=push_options
            )
