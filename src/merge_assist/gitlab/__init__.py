"""GitLab: the typed async REST client, its errors and models, and the git CLI wrapper."""

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.core import ProjectRef
from merge_assist.gitlab.errors import (
    GitLabAuthError,
    GitLabConflict,
    GitLabError,
    GitLabForbidden,
    GitLabLockConflict,
    GitLabMergeFailed,
    GitLabNotFound,
    GitLabNotMergeable,
    GitLabRateLimited,
    GitLabRebaseTimeout,
    GitLabTooManyPages,
    GitLabUnavailable,
    GitLabValidationError,
)
from merge_assist.gitlab.inputs import (
    GitAuthor,
    MergeRequestChanges,
    MergeRequestQuery,
    NewMergeRequest,
)
from merge_assist.gitlab.retry import RetryPolicy

__all__ = [
    "GitAuthor",
    "GitLabAuthError",
    "GitLabClient",
    "GitLabConflict",
    "GitLabError",
    "GitLabForbidden",
    "GitLabLockConflict",
    "GitLabMergeFailed",
    "GitLabNotFound",
    "GitLabNotMergeable",
    "GitLabRateLimited",
    "GitLabRebaseTimeout",
    "GitLabTooManyPages",
    "GitLabUnavailable",
    "GitLabValidationError",
    "MergeRequestChanges",
    "MergeRequestQuery",
    "NewMergeRequest",
    "ProjectRef",
    "RetryPolicy",
]
