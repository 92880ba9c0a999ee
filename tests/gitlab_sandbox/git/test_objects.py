"""Pure helpers: identities, commit parsing, branch names, tree encoding, git dates."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from gitlab_sandbox.git.merging import default_merge_message
from gitlab_sandbox.git.objects import is_valid_branch_name, parse_commit, parse_identity
from gitlab_sandbox.git.process import format_git_date
from gitlab_sandbox.git.trees import TREE_MODE, parse_tree, serialize_tree

RAW_COMMIT = (
    b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
    b"parent 1111111111111111111111111111111111111111\n"
    b"parent 2222222222222222222222222222222222222222\n"
    b"author Ann Author <ann@example.com> 1714554000 +0200\n"
    b"committer Bob <bob@example.com> 1714557600 -0130\n"
    b"gpgsig -----BEGIN PGP SIGNATURE-----\n \n -----END PGP SIGNATURE-----\n"
    b"\n"
    b"Title line\n\nBody\n"
)


def test_parse_commit_reads_headers_and_message() -> None:
    info = parse_commit("c" * 40, RAW_COMMIT)
    assert info.tree_id == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert info.parent_ids == ["1" * 40, "2" * 40]
    assert (info.title, info.message) == ("Title line", "Title line\n\nBody\n")
    assert info.author.name == "Ann Author"
    assert info.authored_date == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert info.authored_date.utcoffset() == timedelta(hours=2)
    assert info.committed_date.utcoffset() == -timedelta(hours=1, minutes=30)
    assert info.short_id == "c" * 8


def test_parse_identity_with_empty_name() -> None:
    identity = parse_identity("<x@example.com> 0 +0000")
    assert (identity.name, identity.email) == ("", "x@example.com")


def test_format_git_date_keeps_offset() -> None:
    when = datetime(2024, 5, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_git_date(when) == "1714554000 +0200"
    west = datetime(2024, 5, 1, 7, 30, tzinfo=timezone(-timedelta(hours=1, minutes=30)))
    assert format_git_date(west) == "1714554000 -0130"


_ref_text = st.text(alphabet=st.sampled_from("ab/.-_@{}~^:*[ \\é0"), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(_ref_text)
def test_branch_names_agree_with_git_check_ref_format(name: str) -> None:
    completed = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/{name}"], capture_output=True, check=False
    )
    # "-x", "HEAD" and "@" are valid ref names but unusable as branch names in rev syntax
    refused_anyway = name.startswith("-") or name in ("HEAD", "@")
    git_accepts = completed.returncode == 0 and not refused_anyway
    assert is_valid_branch_name(name) == git_accepts


@given(
    st.dictionaries(
        st.text(alphabet=st.sampled_from("ab.-_/é0"), min_size=1, max_size=5).filter(
            lambda n: "/" not in n
        ),
        st.tuples(st.sampled_from(["100644", "100755", TREE_MODE]), st.just("ab" * 20)),
        max_size=8,
    )
)
def test_tree_serialization_round_trips(entries: dict[str, tuple[str, str]]) -> None:
    parsed = parse_tree(serialize_tree(entries))
    assert {name: (mode, sha) for mode, name, sha in parsed} == entries


def test_default_merge_message_shape() -> None:
    message = default_merge_message("feature", "main", "Add feature", "group/project!1")
    assert message == (
        "Merge branch 'feature' into 'main'\n\nAdd feature\n\nSee merge request group/project!1"
    )
