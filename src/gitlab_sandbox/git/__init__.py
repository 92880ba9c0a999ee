"""The sandbox's git layer: bare repositories (``repo``) and git smart HTTP (``smart_http``)."""

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

__all__ = [
    "ZERO_SHA",
    "BareRepo",
    "CommitInfo",
    "FileAction",
    "FileDiff",
    "GitError",
    "Identity",
    "MergeConflict",
    "RefMoved",
    "StaleFile",
    "TreeEntry",
    "UnknownRevision",
]
