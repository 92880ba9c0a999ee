"""Standalone mode: each user runs Merge Assist on their own machine; GitLab arbitrates.

Locks go through GitLab's Git LFS lock API (``GitLabLockStore``); shared state (lock reasons,
messages) is JSON in the vault's project, changed by ``last_commit_id`` compare-and-swap
commits (``SharedJsonDocument``, ``StandaloneMessages``). See ``docs/standalone.md``.
"""

from merge_assist.vault.standalone.locks import (
    GitLabLockStore,
    Lock,
    LockHeld,
    LockNotYours,
    NotLocked,
)
from merge_assist.vault.standalone.messages import (
    BROADCAST,
    StandaloneMessage,
    StandaloneMessages,
    member_check,
)
from merge_assist.vault.standalone.shared_json import (
    STATE_BRANCH,
    SharedJsonDocument,
    SharedStateBusy,
    SharedStateUnreadable,
    Snapshot,
)

__all__ = [
    "BROADCAST",
    "STATE_BRANCH",
    "GitLabLockStore",
    "Lock",
    "LockHeld",
    "LockNotYours",
    "NotLocked",
    "SharedJsonDocument",
    "SharedStateBusy",
    "SharedStateUnreadable",
    "Snapshot",
    "StandaloneMessage",
    "StandaloneMessages",
    "member_check",
]
