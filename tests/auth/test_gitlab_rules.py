"""The rules of GitLab-token sign-in: which tokens pass, the expiry warning, local usernames."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.auth.gitlab_rules import (
    allowed_group_paths,
    assess_token,
    expiry_instant,
    expiry_warning,
    has_sufficient_scopes,
    in_allowed_groups,
    username_candidates,
)
from merge_assist.auth.roles import ROLE_NAMES
from merge_assist.gitlab.models import PersonalAccessToken
from merge_assist.gitlab.models import User as GitLabUser
from merge_assist.kit.errors import Forbidden, NotAuthenticated
from merge_assist.kit.settings import Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
USER = GitLabUser(id=7, username="alice", state="active")
USERNAME = re.compile(r"[a-z0-9._-]{3,64}")


def token(**changes: object) -> PersonalAccessToken:
    fields: dict[str, object] = {"id": 1, "scopes": ["api"], "user_id": 7, "active": True}
    fields.update(changes)
    return PersonalAccessToken.model_validate(fields)


def test_a_token_with_api_scope_and_no_expiry_passes_without_warning() -> None:
    accepted = assess_token(USER, token(), now=NOW, warning_days=7)
    assert accepted.expires_at is None
    assert accepted.warning is None
    assert accepted.scopes == ("api",)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"revoked": True}, NotAuthenticated, "revoked"),
        ({"expires_at": "2026-11-22"}, NotAuthenticated, "expired on 2026-11-22"),
        ({"expires_at": "2026-01-01"}, NotAuthenticated, "expired on 2026-01-01"),
        ({"active": False}, NotAuthenticated, "no longer active"),
        ({"user_id": 8}, NotAuthenticated, "no longer active"),
        ({"scopes": ["read_api", "read_repository"]}, Forbidden, "does not have the scopes"),
        ({"scopes": []}, Forbidden, "does not have the scopes"),
    ],
)
def test_unusable_tokens_are_refused_with_the_reason(
    changes: dict[str, object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        assess_token(USER, token(**changes), now=NOW, warning_days=7)


@pytest.mark.parametrize(
    "scopes",
    [
        ["api"],
        ["read_api", "read_repository", "write_repository"],
        ["write_repository", "read_repository", "read_api", "read_user"],
    ],
)
def test_api_or_read_api_with_both_repository_scopes_pass(scopes: list[str]) -> None:
    assert assess_token(USER, token(scopes=scopes), now=NOW, warning_days=7).scopes == tuple(scopes)


@given(
    scopes=st.sets(
        st.sampled_from(
            [
                "read_api",
                "read_repository",
                "write_repository",
                "read_user",
                "sudo",
                "read_registry",
            ]
        )
    )
)
def test_without_api_every_one_of_the_three_least_scopes_is_needed(scopes: set[str]) -> None:
    enough = {"read_api", "read_repository", "write_repository"} <= scopes
    assert has_sufficient_scopes(scopes) == enough


def test_blocked_and_bot_users_are_refused() -> None:
    with pytest.raises(Forbidden, match="blocked"):
        assess_token(USER.model_copy(update={"state": "blocked"}), token(), now=NOW, warning_days=7)
    with pytest.raises(Forbidden, match="bot user"):
        assess_token(USER.model_copy(update={"bot": True}), token(), now=NOW, warning_days=7)


def test_a_token_ending_within_the_warning_days_is_accepted_with_a_warning() -> None:
    accepted = assess_token(USER, token(expires_at="2026-11-26"), now=NOW, warning_days=7)
    assert accepted.expires_at == datetime(2026, 11, 26, tzinfo=UTC)
    assert accepted.warning is not None
    assert accepted.warning.startswith("Your GitLab token expires on 2026-11-26 (in 3 days)")
    later = assess_token(USER, token(expires_at="2026-12-30"), now=NOW, warning_days=7)
    assert later.warning is None


def test_the_warning_says_within_a_day_on_the_last_day() -> None:
    warning = expiry_warning(
        date(2026, 11, 23), datetime(2026, 11, 23, tzinfo=UTC), now=NOW, warning_days=7
    )
    assert warning is not None
    assert "(within a day)" in warning


def test_a_token_stops_working_at_the_start_of_its_expiry_date() -> None:
    assert expiry_instant(date(2026, 11, 23)) == datetime(2026, 11, 23, tzinfo=UTC)
    assert expiry_instant(None) is None


@given(days=st.integers(min_value=0, max_value=400), warning_days=st.integers(0, 365))
def test_a_warning_exactly_when_the_expiry_is_within_the_warning_days(
    days: int, warning_days: int
) -> None:
    expires_at = NOW + timedelta(days=days)
    warning = expiry_warning(expires_at.date(), expires_at, now=NOW, warning_days=warning_days)
    assert (warning is not None) == (days <= warning_days)


def test_the_gitlab_username_comes_first_then_distinct_names() -> None:
    names = list(username_candidates("Alice", 7))
    assert names[:3] == ["alice", "alice-gitlab", "alice-gitlab-2"]
    assert names[-1] == "gitlab-7"


def test_gitlab_usernames_that_are_not_valid_here_are_made_valid() -> None:
    assert next(username_candidates("ab", 1)) == "ab-gitlab"
    assert next(username_candidates("Jöhn Doe", 1)) == "j-hn-doe"
    assert next(username_candidates("___", 1)) == "___"


@given(name=st.text(min_size=1, max_size=300), gitlab_id=st.integers(1, 2**40))
def test_every_candidate_is_a_valid_username_and_they_are_distinct(
    name: str, gitlab_id: int
) -> None:
    names = list(username_candidates(name, gitlab_id))
    assert all(USERNAME.fullmatch(candidate) for candidate in names), names
    assert len(set(names)) == len(names)


def test_the_default_role_setting_accepts_exactly_the_roles_or_none() -> None:
    field = Settings.model_fields["gitlab_login_default_role"]
    assert set(get_args(field.annotation)) == {*ROLE_NAMES, "none"}


def test_allowed_group_paths_are_cleaned() -> None:
    assert allowed_group_paths("") == ()
    assert allowed_group_paths(" , ") == ()
    assert allowed_group_paths("ACME, /acme/cnc/ ,acme") == ("acme", "acme/cnc")


@pytest.mark.parametrize(
    ("member_of", "allowed", "expected"),
    [
        (["acme"], ["acme"], True),
        (["Acme"], ["acme"], True),
        (["acme/cnc/mill"], ["acme"], True),  # a subgroup of an allowed group
        (["acme"], ["acme/cnc"], True),  # a parent group: inherited membership
        (["acme-partners"], ["acme"], False),  # a prefix of the name is not a parent
        (["acmecorp/cnc"], ["acme"], False),
        (["other"], ["acme", "partners"], False),
        ([], ["acme"], False),
    ],
)
def test_membership_of_allowed_groups(
    member_of: list[str], allowed: list[str], expected: bool
) -> None:
    assert in_allowed_groups(member_of, allowed) is expected


def test_a_gitlab_username_shaped_like_the_fallback_is_offered_once() -> None:
    names = list(username_candidates("gitlab-7", 7))
    assert names.count("gitlab-7") == 1
