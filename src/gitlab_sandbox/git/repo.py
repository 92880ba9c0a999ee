"""Bare git repositories driven through the git CLI, with GitLab's semantics.

Everything is synchronous; callers run it with ``asyncio.to_thread`` and hold a per-repository
lock for writes. Reads go through one long-lived ``git cat-file --batch-command`` process per
repository; writes create objects (loose blobs and trees, ``git commit-tree``,
``git merge-tree --write-tree``) and move branches with ``git update-ref <ref> <new> <old>``.

``merge``, ``rebase`` and ``squash`` only create commits: they never move a branch. The caller
moves it with ``set_branch(name, info.id, expected_old=...)`` (compare-and-swap), exactly as a
fast-forward is ``set_branch(target, source_sha, expected_old=target_sha)``.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gitlab_sandbox.git import actions as _actions
from gitlab_sandbox.git import diffs, merging
from gitlab_sandbox.git.objects import (
    ZERO_SHA,
    CommitInfo,
    FileAction,
    FileDiff,
    GitError,
    Identity,
    RefMoved,
    StartPoint,
    TreeEntry,
    UnknownRevision,
    is_valid_branch_name,
    parse_commit,
)
from gitlab_sandbox.git.process import ObjectReader, identity_env, run_git
from gitlab_sandbox.git.trees import TREE_MODE, parse_tree

__all__ = [
    "BareRepo",
    "CommitInfo",
    "FileAction",
    "FileDiff",
    "GitError",
    "Identity",
    "RefMoved",
    "TreeEntry",
    "UnknownRevision",
]

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-fA-F]{4,39}$")
_REPOSITORY_CONFIG = """
[gc]
\tauto = 0
[receive]
\tautogc = false
[http]
\treceivepack = true
[uploadpack]
\tallowFilter = true
\tallowAnySHA1InWant = true
[core]
\tlogAllRefUpdates = false
"""
_COMMIT_CACHE_SIZE = 4096
_ENTRY_TYPES = {"tree": "tree", "blob": "blob", "commit": "commit"}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BareRepo:
    """One bare repository on disk (``path`` is the ``.git`` directory itself)."""

    def __init__(self, path: Path, *, now: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self.now = now or _utcnow
        self.reader = ObjectReader(self.path)
        self._commits: dict[str, CommitInfo] = {}
        weakref.finalize(self, self.reader.close)

    @classmethod
    def init(
        cls,
        path: Path,
        default_branch: str = "main",
        *,
        now: Callable[[], datetime] | None = None,
    ) -> BareRepo:
        """Create an empty bare repository (no hooks, no auto-gc) and open it."""
        if not is_valid_branch_name(default_branch):
            raise GitError(f"{default_branch!r} is not a valid branch name.")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        run_git(path, ["init", "--bare", "--quiet", "--template=", "-b", default_branch, str(path)])
        with (path / "config").open("a", encoding="utf-8") as config:
            config.write(_REPOSITORY_CONFIG)
        return cls(path, now=now)

    def close(self) -> None:
        """Stop the repository's reader process (reopened on the next read)."""
        self.reader.close()

    # -- low-level helpers used by the other modules of this package ---------------------------

    def git(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> tuple[int, bytes]:
        """Run git in the repository; ``(exit code, stdout)``."""
        completed = run_git(self.path, args, input=input, env=env, ok_codes=ok_codes)
        return completed.returncode, completed.stdout

    def write_commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Identity,
        committer: Identity,
    ) -> str:
        """Create a commit object with ``git commit-tree`` and return its SHA-1."""
        now = self.now()
        env = identity_env("AUTHOR", author, now) | identity_env("COMMITTER", committer, now)
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        _, out = self.git(*args, input=message.encode(), env=env)
        return out.decode().strip()

    def require(self, ref: str) -> str:
        """``resolve`` or ``UnknownRevision``."""
        sha = self.resolve(ref)
        if sha is None:
            raise UnknownRevision(f"The revision {ref!r} does not exist.")
        return sha

    # -- branches and revisions ----------------------------------------------------------------

    def branches(self) -> dict[str, str]:
        """Every branch, name -> commit SHA-1."""
        _, out = self.git("for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")
        found: dict[str, str] = {}
        for line in out.decode(errors="surrogateescape").splitlines():
            sha, _, ref = line.partition(" ")
            found[ref.removeprefix("refs/heads/")] = sha
        return found

    def refs_containing(self, sha: str) -> list[tuple[str, str]]:
        """Branches and tags whose history contains ``sha``: ``(type, name)``, sorted."""
        _, out = self.git(
            "for-each-ref", "--format=%(refname)", f"--contains={self.require(sha)}",
            "refs/heads/", "refs/tags/",
        )  # fmt: skip
        found = []
        for ref in out.decode(errors="surrogateescape").splitlines():
            if ref.startswith("refs/heads/"):
                found.append(("branch", ref.removeprefix("refs/heads/")))
            elif ref.startswith("refs/tags/"):
                found.append(("tag", ref.removeprefix("refs/tags/")))
        return sorted(found)

    def branch_sha(self, name: str) -> str | None:
        """The commit a branch points to, or None when there is no such branch."""
        if not is_valid_branch_name(name):
            return None
        info = self.reader.info(f"refs/heads/{name}")
        return info[0] if info is not None and info[1] == "commit" else None

    def resolve(self, ref: str) -> str | None:
        """A branch, tag or (full or abbreviated) commit SHA as the full commit SHA, or None."""
        if not ref or ref.startswith("-") or any(c in ref for c in "\n\0 "):
            return None
        if _SHORT_SHA.match(ref) and not _FULL_SHA.match(ref):
            # a long-lived cat-file caches object directories for abbreviations; ask afresh
            code, out = self.git(
                "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", ok_codes=(0, 1)
            )
            return out.decode().strip() if code == 0 else None
        info = self.reader.info(f"{ref}^{{commit}}")
        return info[0] if info is not None else None

    def create_branch(self, name: str, ref: str) -> str:
        """Create branch ``name`` at ``ref``; returns its SHA. Fails if it exists."""
        if not is_valid_branch_name(name):
            raise GitError("Branch name is invalid")
        sha = self.resolve(ref)
        if sha is None:
            raise UnknownRevision("Invalid reference name")
        if self.branch_sha(name) is not None:
            raise GitError("Branch already exists")
        self._update_ref(name, sha, ZERO_SHA)
        return sha

    def delete_branch(self, name: str) -> None:
        """Delete branch ``name`` (UnknownRevision when it does not exist)."""
        sha = self.branch_sha(name)
        if sha is None:
            raise UnknownRevision("Branch Not Found")
        code, _ = self.git("update-ref", "-d", f"refs/heads/{name}", sha, ok_codes=(0, 1, 128))
        if code != 0:
            raise RefMoved(f"The branch {name} changed while it was being deleted.")

    def set_branch(self, name: str, sha: str, *, expected_old: str | None = None) -> None:
        """Point branch ``name`` at ``sha`` (creating it); with ``expected_old``, only if it
        still points there (``ZERO_SHA``: only if it does not exist) — else ``RefMoved``."""
        if not is_valid_branch_name(name):
            raise GitError("Branch name is invalid")
        self._update_ref(name, self.require(sha), expected_old)

    def _update_ref(self, name: str, sha: str, expected_old: str | None) -> None:
        args = ["update-ref", f"refs/heads/{name}", sha]
        if expected_old is not None:
            args.append(expected_old)
        code, _ = self.git(*args, ok_codes=(0, 1, 128))
        if code != 0:
            raise RefMoved(f"The branch {name} changed since it was read; try again.")

    # -- commits -------------------------------------------------------------------------------

    def commit(self, sha: str) -> CommitInfo:
        """The commit ``sha`` (any revision naming a commit) — UnknownRevision if absent."""
        full = sha if _FULL_SHA.match(sha) else self.require(sha)
        cached = self._commits.get(full)
        if cached is not None:
            return cached
        found = self.reader.contents(full)
        if found is None or found[1] != "commit":
            raise UnknownRevision(f"The commit {sha!r} does not exist.")
        info = parse_commit(full, found[2])
        if len(self._commits) >= _COMMIT_CACHE_SIZE:
            self._commits.clear()
        self._commits[full] = info
        return info

    def commit_files(
        self,
        branch: str,
        actions: list[FileAction],
        message: str,
        author: Identity,
        *,
        start: StartPoint = StartPoint(),
        committer: Identity | None = None,
    ) -> CommitInfo:
        """One commit of file actions on ``branch`` (GitLab's create-commit API); see
        ``actions.commit_files`` for the rules."""
        return _actions.commit_files(
            self, branch, actions, message, author, start=start, committer=committer
        )

    def log(
        self, ref: str, *, path: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[CommitInfo]:
        """Commits reachable from ``ref``, newest first; with ``path``, those touching it."""
        head = self.require(ref)
        args = ["rev-list", f"--max-count={max(limit, 0)}", f"--skip={max(offset, 0)}", head]
        if path:
            args += ["--", path]
        _, out = self.git(*args)
        return [self.commit(sha) for sha in out.decode().split()]

    def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        """Commits in ``head`` that are not in ``base`` (``base..head``), oldest first."""
        _, out = self.git("rev-list", "--reverse", self.require(head), "--not", self.require(base))
        return [self.commit(sha) for sha in out.decode().split()]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is reachable from ``descendant`` (a commit is its own ancestor)."""
        code, _ = self.git(
            "merge-base", "--is-ancestor", self.require(ancestor), self.require(descendant),
            ok_codes=(0, 1),
        )  # fmt: skip
        return code == 0

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits, or None for unrelated histories."""
        code, out = self.git("merge-base", self.require(a), self.require(b), ok_codes=(0, 1))
        return out.decode().strip() if code == 0 else None

    def last_commit_for_path(self, ref: str, path: str) -> str | None:
        """The newest commit reachable from ``ref`` that changed ``path`` (None: never)."""
        _, out = self.git("rev-list", "-1", self.require(ref), "--", path)
        return out.decode().strip() or None

    # -- trees and files -----------------------------------------------------------------------

    def tree_id(self, ref: str) -> str:
        """The root tree of the commit ``ref`` names."""
        info = self.reader.info(f"{self.require(ref)}^{{tree}}")
        if info is None:
            raise UnknownRevision(f"The revision {ref!r} has no tree.")
        return info[0]

    def read_file(self, ref: str, path: str) -> bytes | None:
        """The content of file ``path`` at ``ref``, or None when it is not a file there."""
        found = self.reader.contents(f"{self.require(ref)}:{path.strip('/')}")
        return found[2] if found is not None and found[1] == "blob" else None

    def blob_id(self, ref: str, path: str) -> str | None:
        """The blob SHA of file ``path`` at ``ref``, or None."""
        info = self.reader.info(f"{self.require(ref)}:{path.strip('/')}")
        return info[0] if info is not None and info[1] == "blob" else None

    def list_tree(self, ref: str, path: str = "", recursive: bool = False) -> list[TreeEntry]:
        """Entries of directory ``path`` at ``ref`` (``[]`` when it is not a directory there);
        ``recursive`` lists sub-directories and their content too, as GitLab's tree API does."""
        prefix = path.strip("/")
        commit = self.require(ref)
        info = self.reader.info(f"{commit}:{prefix}" if prefix else f"{commit}^{{tree}}")
        if info is None or info[1] != "tree":
            return []
        base = f"{prefix}/" if prefix else ""
        if recursive:
            _, out = self.git("ls-tree", "-r", "-t", "-z", info[0])
            rows = []
            for record in out.split(b"\0"):
                if record:
                    meta, _, name = record.partition(b"\t")
                    mode, kind, sha = meta.decode().split(" ")
                    rows.append((mode, kind, sha, name.decode("utf-8", "surrogateescape")))
        else:
            found = self.reader.contents(info[0])
            assert found is not None
            rows = [
                (mode, "tree" if mode == TREE_MODE else "commit" if mode == "160000" else "blob",
                 sha, name)
                for mode, name, sha in parse_tree(found[2])
            ]  # fmt: skip
        return [
            TreeEntry(
                id=sha,
                name=relative.rsplit("/", 1)[-1],
                type=_ENTRY_TYPES[kind],  # type: ignore[arg-type]
                path=base + relative,
                mode=mode.zfill(6),
            )
            for mode, kind, sha, relative in rows
        ]

    def diff(self, base: str, head: str) -> list[FileDiff]:
        """File changes from ``base`` to ``head`` (straight, tree to tree; pass the merge base
        as ``base`` for GitLab's MR / compare semantics), with renames detected."""
        return diffs.diff_commits(self, self.require(base), self.require(head))

    # -- merging -------------------------------------------------------------------------------

    def conflicts(self, target: str, source: str) -> list[str]:
        """Paths that conflict when merging ``source`` into ``target`` (``[]``: mergeable)."""
        return merging.conflicting_paths(self, self.require(target), self.require(source))

    def merge(self, target: str, source: str, message: str, committer: Identity) -> CommitInfo:
        """A merge commit (parents: target, source); MergeConflict when they conflict.
        Moves no branch."""
        return merging.merge(self, self.require(target), self.require(source), message, committer)

    def rebase(self, onto: str, source: str, committer: Identity) -> CommitInfo:
        """Replay ``source``'s commits that ``onto`` lacks on top of ``onto`` (authors and
        messages kept; merges and emptied commits dropped); returns the new head. Moves no
        branch. When ``onto`` is already in ``source`` the result is ``source`` itself."""
        return merging.rebase(self, self.require(onto), self.require(source), committer)

    def squash(
        self, onto: str, source: str, message: str, author: Identity, committer: Identity
    ) -> CommitInfo:
        """One commit on top of ``onto`` holding everything ``source`` adds. Moves no branch."""
        return merging.squash(
            self, self.require(onto), self.require(source), message, author, committer
        )
