"""Merge, rebase and squash without a work tree, on ``git merge-tree --write-tree``.

None of these functions moves a branch: they create commit objects and return them; the caller
moves branches with ``BareRepo.set_branch(..., expected_old=...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitlab_sandbox.git.objects import CommitInfo, GitError, Identity, MergeConflict
from gitlab_sandbox.git.trees import decode_name

if TYPE_CHECKING:
    from gitlab_sandbox.git.repo import BareRepo


def merge_trees(repo: BareRepo, ours: str, theirs: str) -> tuple[str, list[str]]:
    """Three-way merge of two commits on their merge base: ``(tree, conflicting paths)``."""
    code, out = repo.git(
        "merge-tree", "--write-tree", "--name-only", "-z", "--no-messages",
        "--allow-unrelated-histories", ours, theirs,
        ok_codes=(0, 1),
    )  # fmt: skip
    fields = [field for field in out.split(b"\0") if field]
    if not fields:
        raise GitError("git merge-tree gave no result")
    tree = fields[0].decode()
    paths = sorted({decode_name(field) for field in fields[1:]}) if code == 1 else []
    if code == 1 and not paths:
        paths = ["(unknown)"]
    return tree, paths


def conflicting_paths(repo: BareRepo, target: str, source: str) -> list[str]:
    """Paths that conflict when ``source`` is merged into ``target``; ``[]`` when mergeable
    (one ``git merge-tree`` run; an ancestor on either side merges cleanly)."""
    return merge_trees(repo, target, source)[1]


def merge(
    repo: BareRepo, target: str, source: str, message: str, committer: Identity
) -> CommitInfo:
    """A merge commit with parents ``(target, source)``, authored and committed by ``committer``."""
    tree, conflicts = merge_trees(repo, target, source)
    if conflicts:
        raise _conflict(conflicts)
    sha = repo.write_commit(tree, [target, source], message, committer, committer)
    return repo.commit(sha)


def squash(
    repo: BareRepo,
    onto: str,
    source: str,
    message: str,
    author: Identity,
    committer: Identity,
) -> CommitInfo:
    """One commit whose parent is ``onto`` and whose tree is ``source``'s changes merged onto it."""
    if repo.is_ancestor(onto, source):
        tree = repo.commit(source).tree_id
    else:
        tree, conflicts = merge_trees(repo, onto, source)
        if conflicts:
            raise _conflict(conflicts)
    sha = repo.write_commit(tree, [onto], message, author, committer)
    return repo.commit(sha)


def rebase(repo: BareRepo, onto: str, source: str, committer: Identity) -> CommitInfo:
    """Replay the non-merge commits of ``source`` missing from ``onto`` on top of ``onto``.

    Authors, author dates and messages are kept; the committer is ``committer``. A commit whose
    parent is already the new base is kept as is (same SHA), as ``git rebase`` does; a commit
    that becomes empty is dropped. Conflicts raise ``MergeConflict`` with the paths.
    """
    if repo.is_ancestor(onto, source):
        return repo.commit(source)
    _, out = repo.git("rev-list", "--reverse", "--no-merges", source, "--not", onto)
    head = onto
    for sha in out.decode().split():
        head = _replay(repo, repo.commit(sha), head, committer)
    return repo.commit(head)


def _replay(repo: BareRepo, commit: CommitInfo, base: str, committer: Identity) -> str:
    """``commit`` applied on ``base`` (a cherry-pick): the new commit's SHA, or ``base`` when
    the change is already there."""
    parent = commit.parent_ids[0] if commit.parent_ids else None
    if parent == base:
        return commit.id
    base_tree = repo.commit(base).tree_id
    if parent is None:
        tree, conflicts = _merge_with_base(repo, None, base_tree, commit, committer)
    else:
        tree, conflicts = _merge_with_base(repo, parent, base_tree, commit, committer)
    if conflicts:
        raise _conflict(conflicts)
    if tree == base_tree:
        return base  # the change is already in the new base: git drops the emptied commit
    return repo.write_commit(tree, [base], commit.message, commit.author, committer)


def _merge_with_base(
    repo: BareRepo, parent: str | None, base_tree: str, commit: CommitInfo, committer: Identity
) -> tuple[str, list[str]]:
    """Merge with ``commit``'s parent as the merge base (git 2.39's merge-tree has no
    ``--merge-base``): a throw-away commit of ``base_tree`` on that parent makes it the base."""
    stand_in = repo.write_commit(
        base_tree, [parent] if parent else [], "rebase base\n", committer, committer
    )
    return merge_trees(repo, stand_in, commit.id)


def _conflict(paths: list[str]) -> MergeConflict:
    return MergeConflict(f"Merge conflict in: {', '.join(paths)}", paths)


def default_merge_message(
    source_branch: str, target_branch: str, title: str, reference: str, description: str = ""
) -> str:
    """GitLab's default merge commit message (template without issue references):
    ``Merge branch 'src' into 'dst'``, the MR title, and ``See merge request group/project!1``."""
    parts = [f"Merge branch '{source_branch}' into '{target_branch}'", title.strip()]
    if description.strip():
        parts.append(description.strip())
    parts.append(f"See merge request {reference}")
    return "\n\n".join(part for part in parts if part)
