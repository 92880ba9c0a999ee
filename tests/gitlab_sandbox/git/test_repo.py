"""BareRepo: commits with actions, branches, trees, files, history and diffs, on real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitlab_sandbox.git import (
    ZERO_SHA,
    BareRepo,
    FileAction,
    GitError,
    RefMoved,
    StaleFile,
    UnknownRevision,
)
from gitlab_sandbox.git.objects import ActionKind, StartPoint
from tests.gitlab_sandbox.git.conftest import ANN, BOB


def _seed(repo: BareRepo) -> str:
    info = repo.commit_files(
        "main",
        [
            FileAction("create", "README.md", b"hello\n"),
            FileAction("create", "src/app/main.py", b"print('hi')\n"),
        ],
        "Initial commit",
        ANN,
    )
    return info.id


def _fsck(repo: BareRepo) -> None:
    assert repo.git("fsck", "--strict", "--no-dangling")[0] == 0


def test_first_commit_creates_branch_with_files(repo: BareRepo) -> None:
    sha = _seed(repo)

    assert repo.branches() == {"main": sha}
    info = repo.commit(sha)
    assert info.parent_ids == []
    assert (info.title, info.message) == ("Initial commit", "Initial commit")
    assert info.author == ANN
    assert info.committer == ANN
    assert info.short_id == sha[:8]
    assert repo.read_file("main", "src/app/main.py") == b"print('hi')\n"
    _fsck(repo)


def test_trees_are_identical_to_the_ones_git_writes(repo: BareRepo) -> None:
    # "a/" sorts after "a-b" and "a.b" but before "a0": git's order for directory entries
    names = ["a.b", "a-b", "a/x", "a0", "b/c/d.txt", "z", "é.txt"]
    repo.commit_files("main", [FileAction("create", n, n.encode()) for n in names], "m", ANN)
    env = {"GIT_INDEX_FILE": str(repo.path / "test-index")}
    repo.git("read-tree", "main", env=env)
    assert repo.git("write-tree", env=env)[1].decode().strip() == repo.tree_id("main")
    _fsck(repo)


def test_create_on_existing_file_is_refused(repo: BareRepo) -> None:
    _seed(repo)
    with pytest.raises(GitError, match="A file with this name already exists"):
        repo.commit_files("main", [FileAction("create", "README.md", b"x")], "m", ANN)


@pytest.mark.parametrize("kind", ["update", "delete", "chmod"])
def test_actions_on_missing_file_are_refused(repo: BareRepo, kind: ActionKind) -> None:
    _seed(repo)
    with pytest.raises(GitError, match="doesn't exist"):
        repo.commit_files("main", [FileAction(kind, "nope.txt", b"x")], "m", ANN)


def test_move_missing_source_is_refused(repo: BareRepo) -> None:
    _seed(repo)
    with pytest.raises(GitError, match="doesn't exist"):
        repo.commit_files(
            "main", [FileAction("move", "new.txt", previous_path="old.txt")], "m", ANN
        )


def test_empty_actions_are_refused(repo: BareRepo) -> None:
    with pytest.raises(GitError, match="actions is empty"):
        repo.commit_files("main", [], "m", ANN)


def test_unsafe_paths_are_refused(repo: BareRepo) -> None:
    for path in ("../x", "/abs", "a//b", ".git/config", "a/./b"):
        with pytest.raises(GitError):
            repo.commit_files("main", [FileAction("create", path, b"x")], "m", ANN)
    assert repo.branches() == {}


def test_update_delete_move_chmod_in_one_commit(repo: BareRepo) -> None:
    first = _seed(repo)
    info = repo.commit_files(
        "main",
        [
            FileAction("update", "README.md", b"hello world\n", last_commit_id=first),
            FileAction("move", "src/main.py", previous_path="src/app/main.py"),
            FileAction("create", "run.sh", b"#!/bin/sh\n"),
            FileAction("chmod", "run.sh", execute_filemode=True),
        ],
        "Second",
        BOB,
    )
    assert info.parent_ids == [first]
    paths = {e.path: e for e in repo.list_tree("main", recursive=True)}
    assert set(paths) == {"README.md", "src", "src/main.py", "run.sh"}
    assert paths["run.sh"].mode == "100755"
    assert paths["src"].mode == "040000"
    assert repo.read_file("main", "src/main.py") == b"print('hi')\n"
    assert repo.read_file("main", "src/app/main.py") is None  # emptied directory is gone
    assert repo.list_tree("main", "src/app") == []
    _fsck(repo)


def test_delete_last_file_leaves_an_empty_tree(repo: BareRepo) -> None:
    repo.commit_files("main", [FileAction("create", "only.txt", b"1")], "m", ANN)
    repo.commit_files("main", [FileAction("delete", "only.txt")], "m", ANN)
    assert repo.list_tree("main") == []
    assert repo.tree_id("main") == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def test_stale_last_commit_id_is_refused(repo: BareRepo) -> None:
    first = _seed(repo)
    repo.commit_files("main", [FileAction("update", "README.md", b"v2\n")], "v2", BOB)
    before = repo.branches()["main"]
    with pytest.raises(StaleFile, match="You are attempting to update a file that has changed"):
        repo.commit_files(
            "main", [FileAction("update", "README.md", b"v3\n", last_commit_id=first)], "v3", ANN
        )
    assert repo.branches()["main"] == before
    # a file untouched since `first` accepts it as its last commit
    repo.commit_files(
        "main",
        [FileAction("update", "src/app/main.py", b"print(2)\n", last_commit_id=first)],
        "ok",
        ANN,
    )


def test_new_branch_from_start_branch_and_existing_branch_rules(repo: BareRepo) -> None:
    first = _seed(repo)
    info = repo.commit_files(
        "feature", [FileAction("create", "f.txt", b"f")], "f", BOB, start=StartPoint(branch="main")
    )
    assert info.parent_ids == [first]
    assert repo.branches() == {"main": first, "feature": info.id}
    with pytest.raises(GitError, match="already exists"):
        repo.commit_files(
            "feature",
            [FileAction("create", "g.txt", b"g")],
            "g",
            BOB,
            start=StartPoint(branch="main"),
        )
    forced = repo.commit_files(
        "feature",
        [FileAction("create", "g.txt", b"g")],
        "g",
        BOB,
        start=StartPoint(sha=first, force=True),
    )
    assert forced.parent_ids == [first]
    with pytest.raises(GitError, match="on a branch"):
        repo.commit_files("other", [FileAction("create", "h.txt", b"h")], "h", BOB)


def test_branch_create_delete_and_compare_and_swap(repo: BareRepo) -> None:
    first = _seed(repo)
    assert repo.create_branch("topic/one", "main") == first
    with pytest.raises(GitError, match="Branch already exists"):
        repo.create_branch("topic/one", "main")
    with pytest.raises(GitError, match="Branch name is invalid"):
        repo.create_branch("bad..name", "main")
    with pytest.raises(UnknownRevision):
        repo.create_branch("x", "no-such-ref")
    second = repo.commit_files("main", [FileAction("delete", "README.md")], "rm", ANN).id
    with pytest.raises(RefMoved):
        repo.set_branch("topic/one", second, expected_old=second)
    repo.set_branch("topic/one", second, expected_old=first)
    assert repo.branches()["topic/one"] == second
    with pytest.raises(RefMoved):
        repo.set_branch("topic/one", first, expected_old=ZERO_SHA)
    repo.delete_branch("topic/one")
    assert "topic/one" not in repo.branches()
    with pytest.raises(UnknownRevision):
        repo.delete_branch("topic/one")


def test_resolve_names_and_short_shas(repo: BareRepo) -> None:
    first = _seed(repo)
    assert repo.resolve("main") == first
    assert repo.resolve("refs/heads/main") == first
    assert repo.resolve(first) == first
    assert repo.resolve(first[:8]) == first
    assert repo.resolve("nope") is None
    assert repo.resolve("-x") is None
    assert repo.resolve("") is None
    with pytest.raises(UnknownRevision):
        repo.commit("nope")


def test_history_queries(repo: BareRepo) -> None:
    first = _seed(repo)
    second = repo.commit_files("main", [FileAction("update", "README.md", b"2")], "two", BOB).id
    third = repo.commit_files("main", [FileAction("create", "x.txt", b"3")], "three", BOB).id

    assert [c.id for c in repo.log("main")] == [third, second, first]
    assert [c.id for c in repo.log("main", limit=1, offset=1)] == [second]
    assert [c.id for c in repo.log("main", path="README.md")] == [second, first]
    assert [c.id for c in repo.commits_between(first, "main")] == [second, third]
    assert repo.is_ancestor(first, third)
    assert not repo.is_ancestor(third, first)
    assert repo.merge_base(first, third) == first
    assert repo.last_commit_for_path("main", "README.md") == second
    assert repo.last_commit_for_path("main", "src/app/main.py") == first
    assert repo.last_commit_for_path("main", "missing") is None
    assert repo.blob_id("main", "x.txt") == repo.git("rev-parse", "main:x.txt")[1].decode().strip()
    assert repo.blob_id("main", "src") is None


def test_diff_shape(repo: BareRepo) -> None:
    first = _seed(repo)
    head = repo.commit_files(
        "main",
        [
            FileAction("update", "README.md", b"hello\nworld\n"),
            FileAction("delete", "src/app/main.py"),
            FileAction("create", "new.bin", b"\0\1\2"),
        ],
        "change",
        BOB,
    ).id
    diffs = {d.new_path: d for d in repo.diff(first, head)}
    assert set(diffs) == {"README.md", "src/app/main.py", "new.bin"}
    readme = diffs["README.md"]
    assert readme.diff == "@@ -1 +1,2 @@\n hello\n+world\n"
    assert (readme.a_mode, readme.b_mode, readme.new_file) == ("100644", "100644", False)
    deleted = diffs["src/app/main.py"]
    assert deleted.deleted_file
    assert deleted.b_mode == "0"
    assert deleted.diff.startswith("@@ -1 +0,0 @@\n-print('hi')")
    binary = diffs["new.bin"]
    assert binary.new_file
    assert binary.a_mode == "0"
    assert binary.diff.startswith("Binary files")
    assert repo.diff(head, head) == []


def test_diff_detects_renames(repo: BareRepo) -> None:
    first = _seed(repo)
    head = repo.commit_files(
        "main", [FileAction("move", "docs/README.md", previous_path="README.md")], "mv", BOB
    ).id
    (rename,) = repo.diff(first, head)
    assert (rename.old_path, rename.new_path, rename.renamed_file) == (
        "README.md",
        "docs/README.md",
        True,
    )


def test_repository_is_usable_by_plain_git(repo: BareRepo, tmp_path: Path) -> None:
    _seed(repo)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", str(repo.path), str(clone)],
        check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert (clone / "src" / "app" / "main.py").read_bytes() == b"print('hi')\n"


def test_reader_survives_a_restart(repo: BareRepo) -> None:
    first = _seed(repo)
    repo.close()
    assert repo.resolve("main") == first
