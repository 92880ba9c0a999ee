"""Nobody poses as the system (issue 13, item 11): names reading as "Merge Assist" are reserved."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.auth.reserved_names import (
    SYSTEM_DISPLAY_NAME,
    is_reserved,
    refuse_reserved,
    unreserved_display_name,
)
from merge_assist.kit.errors import Unprocessable


@pytest.mark.parametrize(
    "name",
    [
        SYSTEM_DISPLAY_NAME,
        "merge assist",
        "MERGE-ASSIST",
        "merge_assist",
        "merge.assist",
        "mergeassist",
        "  Merge   Assist  ",
        "Mërge Assíst",
        "".join(chr(ord(ch) + 0xFEE0) if ch != " " else ch for ch in "Merge Assist"),  # wide
        "Merge Ass1st",
        "Merge Assl5t",
        "M3rge 4ssist",
        "System",
        "SYSTEM",
        "s y s t e m",
        "Merge Assist System",
    ],
)
def test_names_reading_as_the_system_are_reserved(name: str) -> None:
    assert is_reserved(name)
    with pytest.raises(Unprocessable) as refused:
        refuse_reserved(name, "display name")
    assert "Merge Assist" in refused.value.message


@pytest.mark.parametrize(
    "name",
    ["alice", "Grace Hopper", "merge-assist-gitlab", "Merge Assist (GitLab)", "systems", "sys"],
)
def test_other_names_are_free(name: str) -> None:
    assert not is_reserved(name)


def test_a_gitlab_user_named_like_the_system_keeps_a_distinct_name() -> None:
    assert unreserved_display_name("Merge Assist", 128) == "Merge Assist (GitLab)"
    assert unreserved_display_name("Alice", 128) == "Alice"


@given(st.text(max_size=140))
def test_unreserved_display_names_are_never_reserved_nor_too_long(name: str) -> None:
    shown = unreserved_display_name(name, 128)
    assert not is_reserved(shown)
    assert len(shown) <= 128
