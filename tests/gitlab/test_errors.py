"""Mapping GitLab statuses and bodies onto typed errors with readable sentences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.gitlab.errors import (
    GitLabAuthError,
    GitLabConflict,
    GitLabError,
    GitLabForbidden,
    GitLabNotFound,
    GitLabNotMergeable,
    GitLabUnavailable,
    GitLabValidationError,
    as_sentence,
    error_class_for,
    error_from_response,
    reason_from_body,
)
from merge_assist.kit.errors import MergeAssistError


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, GitLabValidationError),
        (401, GitLabAuthError),
        (403, GitLabForbidden),
        (404, GitLabNotFound),
        (405, GitLabNotMergeable),
        (406, GitLabNotMergeable),
        (409, GitLabConflict),
        (422, GitLabValidationError),
        (418, GitLabError),
        (500, GitLabUnavailable),
        (502, GitLabUnavailable),
        (503, GitLabUnavailable),
        (504, GitLabUnavailable),
    ],
)
def test_status_to_class(status: int, error_class: type[GitLabError]) -> None:
    assert error_class_for(status) is error_class


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"message": "404 Not found"}, "404 Not found"),
        ({"message": ["Branch cannot be merged", "Draft"]}, "Branch cannot be merged; Draft"),
        (
            {"message": {"base": ["Source branch is missing"], "title": ["can't be blank"]}},
            "Source branch is missing; title can't be blank",
        ),
        ({"error": "invalid_token", "error_description": "Token expired"}, "Token expired"),
        ({"error": "insufficient_scope"}, "insufficient_scope"),
        ({"other": 1}, ""),
        ("plain text", "plain text"),
        (None, ""),
    ],
)
def test_reason_from_the_shapes_gitlab_uses(body: object, reason: str) -> None:
    assert reason_from_body(body) == reason


def test_error_without_a_reason_names_the_status_and_operation() -> None:
    error = error_from_response(404, None, operation="mr.get")
    assert isinstance(error, GitLabNotFound)
    assert error.message == "GitLab answered 404 to mr.get."
    assert str(error) == error.message


def test_gitlab_errors_surface_as_gateway_errors_not_as_our_own_statuses() -> None:
    """An unhandled GitLab 401/404 must not tell *our* caller they are unauthenticated."""
    auth = error_from_response(401, {"message": "401 Unauthorized"}, operation="user.current")
    assert isinstance(auth, MergeAssistError)
    assert auth.status == 401
    assert auth.status_code == 502
    assert error_from_response(503, None, operation="x").status_code == 503


@given(st.text(max_size=2000))
def test_sentences_are_bounded_capitalised_and_punctuated(text: str) -> None:
    sentence = as_sentence(text)
    if not text.split():
        assert sentence == ""
        return
    assert len(sentence) <= 501
    assert sentence[-1] in ".!?…"
    assert sentence[0] == sentence[0].upper()
    assert "\n" not in sentence


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@given(status=st.integers(min_value=400, max_value=599), body=json_values)
def test_any_refusal_becomes_a_typed_error_with_a_sentence(status: int, body: object) -> None:
    error = error_from_response(status, {"message": body}, operation="mr.get")
    assert isinstance(error, error_class_for(status))
    assert error.status == status
    assert error.message
    assert error.message[-1] in ".!?…"
