"""What a message may hold: direct and property-based tests of the pure rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.kit.errors import Unprocessable
from merge_assist.messaging import rules
from merge_assist.messaging.rules import Recipients


def test_recipients_forms() -> None:
    assert rules.parse_recipients("all") == Recipients(broadcast=True)
    assert rules.parse_recipients(["ALL"]) == Recipients(broadcast=True)
    assert rules.parse_recipients(" Bob ") == Recipients(False, ("bob",))
    assert rules.parse_recipients(["bob", "Carol", "BOB"]) == Recipients(False, ("bob", "carol"))


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ([], "Say who"),
        ("", "empty"),
        (["bob", " "], "empty"),
        (["all", "bob"], "'all' already includes everyone"),
        ("x" * 65, "at most 64"),
        ([f"user{i}" for i in range(101)], "at most 100"),
    ],
)
def test_bad_recipients(to: str | list[str], message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        rules.parse_recipients(to)


@given(st.lists(st.from_regex(r"[a-z0-9._-]{3,20}", fullmatch=True), min_size=1, max_size=100))
def test_recipients_are_unique_and_keep_their_order(names: list[str]) -> None:
    if "all" in names:
        return
    parsed = rules.parse_recipients(names + [name.upper() for name in names])
    assert list(parsed.usernames) == list(dict.fromkeys(names))


def test_subject_and_body_limits() -> None:
    assert rules.clean_subject("  Hi  ") == "Hi"
    assert rules.clean_subject("s" * 200) == "s" * 200
    assert rules.clean_body("line one\n\tline two\r\n") == "line one\n\tline two\r\n"
    assert rules.clean_body("b" * 5000) == "b" * 5000
    for bad_subject in ("", "   ", "s" * 201, "a\nb", "nul\x00"):
        with pytest.raises(Unprocessable, match="subject"):
            rules.clean_subject(bad_subject)
    for bad_body in ("", " \n\t ", "b" * 5001, "nul\x00byte", "bell\x07"):
        with pytest.raises(Unprocessable, match="body"):
            rules.clean_body(bad_body)


@given(st.text(max_size=300))
def test_subjects_are_either_clean_or_refused(text: str) -> None:
    try:
        subject = rules.clean_subject(text)
    except Unprocessable:
        return
    assert 1 <= len(subject) <= rules.MAX_SUBJECT
    assert subject == subject.strip()
    assert "\n" not in subject
    assert "\x00" not in subject


def test_file_refs() -> None:
    assert rules.clean_file_ref(None) is None
    assert rules.clean_file_ref("   ") is None
    assert rules.clean_file_ref(" cnc/part 7.mcam ") == "cnc/part 7.mcam"
    assert rules.clean_file_ref("f" * 1024) == "f" * 1024
    for bad in ("f" * 1025, "a\x00b", "a\nb"):
        with pytest.raises(Unprocessable, match="related file"):
            rules.clean_file_ref(bad)


@pytest.mark.parametrize(
    ("given_ref", "stored"),
    [
        ("group/proj!12", "group/proj!12"),
        (" group/sub.group/my-proj!3 ", "group/sub.group/my-proj!3"),
        ("42!7", "42!7"),
        ("042!07", "42!7"),
        ((42, 7), "42!7"),
        (("tools/fixtures", 12), "tools/fixtures!12"),
        ("", None),
        (None, None),
    ],
)
def test_merge_request_refs(given_ref: str | tuple[int | str, int] | None, stored: str) -> None:
    assert rules.mr_ref(given_ref) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "group/proj",
        "!12",
        "group/proj!",
        "group//proj!1",
        "/group!1",
        "group/proj!0",
        "0!1",
        "group proj!1",
        "group/proj!1\n2",
        f"{'g' * 300}!1",
        f"1!{2**31}",
        f"{2**63}!1",
        (0, 1),
    ],
)
def test_bad_merge_request_refs(bad: str | tuple[int, int]) -> None:
    with pytest.raises(Unprocessable, match="merge request reference"):
        rules.mr_ref(bad)


@given(st.integers(1, rules.MAX_PROJECT_ID), st.integers(1, rules.MAX_IID))
def test_merge_request_pairs_and_strings_agree(project: int, iid: int) -> None:
    assert rules.mr_ref((project, iid)) == rules.mr_ref(f"{project}!{iid}") == f"{project}!{iid}"


@given(st.text(max_size=60))
def test_any_text_is_a_stored_ref_or_a_refusal(text: str) -> None:
    try:
        stored = rules.mr_ref(text)
    except Unprocessable:
        return
    assert stored is None or rules.mr_ref(stored) == stored
