"""GitLab's create-commit API (``POST /projects/:id/repository/commits``) on a bare repository.

Rules follow GitLab: ``create`` fails when the file exists, ``update``/``delete``/``move``/
``chmod`` fail when it does not, a ``last_commit_id`` that is not the last commit touching the
file on the start branch is a ``StaleFile``, actions apply in order, and the branch only moves
if it still points where the commit started (compare-and-swap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitlab_sandbox.git.objects import (
    ZERO_SHA,
    CommitInfo,
    FileAction,
    GitError,
    Identity,
    StaleFile,
    StartPoint,
    is_valid_branch_name,
)
from gitlab_sandbox.git.trees import (
    EXECUTABLE_MODE,
    FILE_MODE,
    TREE_MODE,
    TreeEditor,
    validate_path,
    write_loose_object,
)

if TYPE_CHECKING:
    from gitlab_sandbox.git.repo import BareRepo

_NOT_ON_BRANCH = "You can only create or edit files when you are on a branch"


def commit_files(
    repo: BareRepo,
    branch: str,
    actions: list[FileAction],
    message: str,
    author: Identity,
    *,
    start: StartPoint = StartPoint(),
    committer: Identity | None = None,
) -> CommitInfo:
    """Apply ``actions`` in one commit on ``branch``; the branch is created from
    ``start`` when absent (or overwritten from it with ``start.force``).
    ``committer`` is who made the call (GitLab: the token's user); the author by default."""
    if not actions:
        raise GitError("actions is empty")
    if not message.strip():
        raise GitError("commit_message is empty")
    if not is_valid_branch_name(branch):
        raise GitError("Branch name is invalid")
    current = repo.branch_sha(branch)
    parent = _start_point(repo, branch, current, start)
    editor = TreeEditor(repo.path, repo.reader, repo.commit(parent).tree_id if parent else None)
    for action in actions:
        _check_last_commit(repo, parent, action)
        _apply(repo, editor, action)
    tree = editor.write()
    sha = repo.write_commit(tree, [parent] if parent else [], message, author, committer or author)
    expected_old = current if current is not None else ZERO_SHA
    repo.set_branch(branch, sha, expected_old=expected_old)
    return repo.commit(sha)


def _start_point(
    repo: BareRepo,
    branch: str,
    current: str | None,
    start: StartPoint,
) -> str | None:
    """The parent of the new commit (None for the first commit of an empty repository)."""
    start_branch, start_sha, force = start.branch, start.sha, start.force
    if start_branch and start_sha:
        raise GitError("You can't pass both start_branch and start_sha")
    starts_elsewhere = (start_branch is not None and start_branch != branch) or bool(start_sha)
    if current is not None and not (starts_elsewhere and force):
        if starts_elsewhere:
            raise GitError(
                f"A branch called '{branch}' already exists. "
                "Switch to that branch in order to make changes"
            )
        return current
    if start_sha:
        found = repo.resolve(start_sha)
        if found is None:
            raise GitError(f"Cannot find start_sha '{start_sha}'")
        return found
    if start_branch and start_branch != branch:
        found = repo.branch_sha(start_branch)
        if found is None:
            raise GitError(_NOT_ON_BRANCH)
        return found
    if current is not None:
        return current
    if repo.branches():
        raise GitError(_NOT_ON_BRANCH)
    return None  # empty repository: the first commit has no parent


def _check_last_commit(repo: BareRepo, parent: str | None, action: FileAction) -> None:
    if not action.last_commit_id or action.action == "create" or parent is None:
        return
    path = action.previous_path if action.action == "move" and action.previous_path else None
    last = repo.last_commit_for_path(parent, path or action.file_path)
    given = action.last_commit_id.lower()
    if last is None or not (last == given or (len(given) >= 7 and last.startswith(given))):
        raise StaleFile(
            f"You are attempting to {action.action} a file that has changed since you "
            "started editing it."
        )


def _apply(repo: BareRepo, editor: TreeEditor, action: FileAction) -> None:
    validate_path(action.file_path)
    path = action.file_path
    existing = editor.lookup(path)
    if existing is not None and existing[0] == TREE_MODE and action.action in ("create", "move"):
        raise GitError("A directory with this name already exists")
    if action.action == "create":
        if existing is not None:
            raise GitError("A file with this name already exists")
        _put(repo, editor, path, action.content or b"", _mode(action, FILE_MODE))
    elif action.action == "update":
        _require_file(existing)
        assert existing is not None
        _put(repo, editor, path, action.content or b"", _mode(action, existing[0]))
    elif action.action == "delete":
        _require_file(existing)
        editor.remove(path)
    elif action.action == "move":
        _move(repo, editor, action, existing)
    elif action.action == "chmod":
        _require_file(existing)
        assert existing is not None
        executable = bool(action.execute_filemode)
        editor.put(path, EXECUTABLE_MODE if executable else FILE_MODE, existing[1])
    else:  # pragma: no cover - Literal exhausts the cases
        raise GitError(f"Unknown action '{action.action}'")


def _move(
    repo: BareRepo, editor: TreeEditor, action: FileAction, existing: tuple[str, str] | None
) -> None:
    if not action.previous_path:
        raise GitError("previous_path is missing for the move action")
    validate_path(action.previous_path)
    source = editor.lookup(action.previous_path)
    _require_file(source)
    assert source is not None
    if existing is not None and action.previous_path != action.file_path:
        raise GitError("A file with this name already exists")
    editor.remove(action.previous_path)
    if action.content is None:
        editor.put(action.file_path, source[0], source[1])
    else:
        _put(repo, editor, action.file_path, action.content, source[0])


def _require_file(entry: tuple[str, str] | None) -> None:
    if entry is None or entry[0] == TREE_MODE:
        raise GitError("A file with this name doesn't exist")


def _mode(action: FileAction, default: str) -> str:
    if action.execute_filemode is None:
        return default
    return EXECUTABLE_MODE if action.execute_filemode else FILE_MODE


def _put(repo: BareRepo, editor: TreeEditor, path: str, content: bytes, mode: str) -> None:
    editor.put(path, mode, write_loose_object(repo.path, "blob", content))
