"""The shared GitLab project and its users, and one instance's lock store on it."""

from __future__ import annotations

from merge_assist.gitlab import GitLabClient
from merge_assist.standalone.shared_json import SharedJsonDocument
from merge_assist.vault.standalone.locks import GitLabLockStore
from tests.standalone.shared_project import PROJECT, alice, bob, carol, sandbox

__all__ = ["alice", "bob", "carol", "lock_store", "sandbox"]


def lock_store(client: GitLabClient, reasons: str) -> GitLabLockStore:
    """One instance's lock store; ``reasons`` names the shared document of this test."""
    document = SharedJsonDocument.in_state_folder(client, PROJECT, reasons)
    return GitLabLockStore(client, PROJECT, document)
