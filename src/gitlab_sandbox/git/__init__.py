"""The sandbox's git layer: bare repositories (``repo``) and git smart HTTP (``smart_http``)."""

from gitlab_sandbox.git.merging import default_merge_message
from gitlab_sandbox.git.objects import (
    ZERO_SHA,
    CommitInfo,
    FileAction,
    FileDiff,
    GitError,
    Identity,
    MergeConflict,
    RefMoved,
    StaleFile,
    TreeEntry,
    UnknownRevision,
)
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.git.smart_http import GitAccess, GitTarget, RefUpdate, build_git_router

__all__ = [
    "ZERO_SHA",
    "BareRepo",
    "CommitInfo",
    "FileAction",
    "FileDiff",
    "GitAccess",
    "GitError",
    "GitTarget",
    "Identity",
    "MergeConflict",
    "RefMoved",
    "RefUpdate",
    "StaleFile",
    "TreeEntry",
    "UnknownRevision",
    "build_git_router",
    "default_merge_message",
]
