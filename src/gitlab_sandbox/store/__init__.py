"""The sandbox's in-memory state: records (``models``), the ``Store`` and token hashing."""

from gitlab_sandbox.store.models import (
    AccessLevel,
    AccessToken,
    Approval,
    BranchFacts,
    DiffVersion,
    Discussion,
    Group,
    Label,
    LfsLock,
    MergeRequest,
    Note,
    Pipeline,
    Project,
    ProjectHook,
    ProjectSettings,
    ProtectedBranch,
    User,
    is_draft_title,
)
from gitlab_sandbox.store.store import Store, mr_pipeline_order
from gitlab_sandbox.store.tokens import hash_token, new_token_value

__all__ = [
    "AccessLevel",
    "AccessToken",
    "Approval",
    "BranchFacts",
    "DiffVersion",
    "Discussion",
    "Group",
    "Label",
    "LfsLock",
    "MergeRequest",
    "Note",
    "Pipeline",
    "Project",
    "ProjectHook",
    "ProjectSettings",
    "ProtectedBranch",
    "Store",
    "User",
    "hash_token",
    "is_draft_title",
    "mr_pipeline_order",
    "new_token_value",
]
