"""Merge, rebase, squash and conflict listing on real git (no work tree)."""

from __future__ import annotations

import pytest

from gitlab_sandbox.git import BareRepo, FileAction, MergeConflict
from tests.gitlab_sandbox.git.conftest import ANN, BOB, MERGER

LINES = b"one\ntwo\nthree\nfour\nfive\n"


@pytest.fixture
def diverged(repo: BareRepo) -> tuple[str, str, str]:
    """``main`` and ``feature`` both moved on from a common base; returns (base, main, feature)."""
    base = repo.commit_files("main", [FileAction("create", "f.txt", LINES)], "base", ANN).id
    repo.create_branch("feature", base)
    main = repo.commit_files(
        "main", [FileAction("update", "f.txt", LINES.replace(b"one", b"ONE"))], "main edit", ANN
    ).id
    repo.commit_files(
        "feature", [FileAction("update", "f.txt", LINES.replace(b"five", b"FIVE"))], "f1", BOB
    )
    feature = repo.commit_files(
        "feature", [FileAction("create", "g.txt", b"g\n")], "f2\n\nbody line\n", BOB
    ).id
    return base, main, feature


def _conflicting_feature(repo: BareRepo) -> None:
    repo.commit_files(
        "feature", [FileAction("update", "f.txt", LINES.replace(b"one", b"uno"))], "clash", BOB
    )


def test_conflicts_empty_when_mergeable(repo: BareRepo, diverged: tuple[str, str, str]) -> None:
    assert repo.conflicts("main", "feature") == []
    assert repo.conflicts("feature", diverged[0]) == []


def test_conflicts_list_paths(repo: BareRepo, diverged: tuple[str, str, str]) -> None:
    _conflicting_feature(repo)
    repo.commit_files("main", [FileAction("create", "g.txt", b"other\n")], "g on main", ANN)
    assert repo.conflicts("main", "feature") == ["f.txt", "g.txt"]


def test_merge_commit_has_both_parents_and_message(
    repo: BareRepo, diverged: tuple[str, str, str]
) -> None:
    _, main, feature = diverged
    message = "Merge branch 'feature' into 'main'\n\nf2\n\nSee merge request group/project!1"
    info = repo.merge("main", "feature", message, MERGER)
    assert info.parent_ids == [main, feature]
    assert info.message == message
    assert info.author == MERGER
    assert info.committer == MERGER
    assert repo.read_file(info.id, "f.txt") == b"ONE\ntwo\nthree\nfour\nFIVE\n"
    assert repo.read_file(info.id, "g.txt") == b"g\n"
    assert repo.branches()["main"] == main  # merge moves no branch


def test_merge_conflict_raises_with_paths(repo: BareRepo, diverged: tuple[str, str, str]) -> None:
    _conflicting_feature(repo)
    with pytest.raises(MergeConflict) as caught:
        repo.merge("main", "feature", "m", MERGER)
    assert caught.value.conflicting_paths == ["f.txt"]


def test_rebase_replays_commits_preserving_authors(
    repo: BareRepo, diverged: tuple[str, str, str]
) -> None:
    base, main, feature = diverged
    original = repo.commits_between(base, feature)
    head = repo.rebase("main", "feature", MERGER)
    replayed = repo.commits_between(main, head.id)
    assert [c.message for c in replayed] == [c.message for c in original]
    assert [c.author for c in replayed] == [c.author for c in original]
    assert all(c.committer == MERGER for c in replayed)
    assert replayed[0].parent_ids == [main]
    assert {c.id for c in replayed}.isdisjoint(c.id for c in original)
    assert repo.read_file(head.id, "f.txt") == b"ONE\ntwo\nthree\nfour\nFIVE\n"
    assert repo.branches()["feature"] == feature  # rebase moves no branch


def test_rebase_when_already_on_top_returns_source(
    repo: BareRepo, diverged: tuple[str, str, str]
) -> None:
    base, _, feature = diverged
    assert repo.rebase(base, "feature", MERGER).id == feature


def test_rebase_drops_commits_already_upstream(repo: BareRepo) -> None:
    base = repo.commit_files("main", [FileAction("create", "a", b"a\n")], "base", ANN).id
    repo.create_branch("feature", base)
    repo.commit_files("feature", [FileAction("create", "b", b"b\n")], "same change", BOB)
    repo.commit_files("main", [FileAction("create", "b", b"b\n")], "same change", ANN)
    main = repo.commit_files("main", [FileAction("create", "c", b"c\n")], "more", ANN).id
    assert repo.rebase("main", "feature", MERGER).id == main


def test_rebase_conflict_raises_with_paths(repo: BareRepo, diverged: tuple[str, str, str]) -> None:
    _conflicting_feature(repo)
    with pytest.raises(MergeConflict) as caught:
        repo.rebase("main", "feature", MERGER)
    assert caught.value.conflicting_paths == ["f.txt"]


def test_squash_makes_one_commit_on_onto(repo: BareRepo, diverged: tuple[str, str, str]) -> None:
    _, main, feature = diverged
    squashed = repo.squash("main", "feature", "Squashed", BOB, MERGER)
    assert squashed.parent_ids == [main]
    assert (squashed.message, squashed.author, squashed.committer) == ("Squashed", BOB, MERGER)
    assert repo.read_file(squashed.id, "g.txt") == b"g\n"
    assert repo.read_file(squashed.id, "f.txt") == b"ONE\ntwo\nthree\nfour\nFIVE\n"
    on_base = repo.squash(diverged[0], feature, "S", BOB, MERGER)
    assert on_base.tree_id == repo.commit(feature).tree_id


def test_fast_forward_is_set_branch(repo: BareRepo, diverged: tuple[str, str, str]) -> None:
    base, main, _ = diverged
    repo.create_branch("old", base)
    repo.set_branch("old", main, expected_old=base)
    assert repo.branches()["old"] == main
