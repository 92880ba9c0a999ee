"""Who may push to and merge into which branch, from members and protected branches."""

from __future__ import annotations

from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import AccessLevel, Project, User

PROTECTED_PUSH_REFUSAL = "You are not allowed to push code to protected branches on this project."
FORCE_PUSH_REFUSAL = "You are not allowed to force push code to a protected branch on this project."


def can_read(sandbox: Sandbox, project: Project, user: User | None) -> bool:
    """Guests and up read private projects; everyone reads public ones."""
    if project.visibility == "public":
        return True
    return user is not None and sandbox.store.access_level(project, user) >= AccessLevel.GUEST


def can_push(sandbox: Sandbox, project: Project, user: User, branch: str) -> bool:
    """Developers push to unprotected branches; protected ones need their push level."""
    level = sandbox.store.access_level(project, user)
    rule = sandbox.store.protection_for(project, branch)
    if rule is None:
        return level >= AccessLevel.DEVELOPER
    return rule.push_access_level > AccessLevel.NO_ACCESS and level >= rule.push_access_level


def can_force_push(sandbox: Sandbox, project: Project, branch: str) -> bool:
    rule = sandbox.store.protection_for(project, branch)
    return rule is None or rule.allow_force_push


def can_merge(sandbox: Sandbox, project: Project, user: User, target_branch: str) -> bool:
    """Whether ``user`` may merge MRs into ``target_branch``."""
    level = sandbox.store.access_level(project, user)
    rule = sandbox.store.protection_for(project, target_branch)
    if rule is None:
        return level >= AccessLevel.DEVELOPER
    return rule.merge_access_level > AccessLevel.NO_ACCESS and level >= rule.merge_access_level
