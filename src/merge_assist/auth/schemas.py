"""API shapes of sign-in and user administration (pydantic v2)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from merge_assist.auth.models import User
from merge_assist.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from merge_assist.auth.roles import RoleName

_USERNAME = re.compile(r"[A-Za-z0-9._-]{3,64}")
# Deliberately loose: one @, something before, a dotted domain after, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _username(value: str) -> str:
    if not _USERNAME.fullmatch(value):
        raise PydanticCustomError(
            "username",
            "a username has 3 to 64 characters: letters, digits, dots, underscores or hyphens",
        )
    return value.lower()


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "this is not an email address")
    return value


Username = Annotated[str, AfterValidator(_username)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)
]
Password = Annotated[
    str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
]
Roles = Annotated[list[RoleName], Field(max_length=len(RoleName))]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Input):
    """Username and password (JSON, or the OAuth2 password form)."""

    model_config = ConfigDict(extra="ignore")  # the OAuth2 form also sends grant_type, scope

    username: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class TokenResponse(BaseModel):
    """Tokens handed out by a sign-in or a refresh."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds the access token stays valid.")
    refresh_token: str | None = Field(
        default=None,
        description="Absent when the client asked for it in a cookie "
        "(header 'X-Refresh-Transport: cookie').",
    )


class GitLabLoginRequest(_Input):
    """A GitLab personal access token (scope ``api``) to sign in with."""

    # Printable ASCII without spaces: what GitLab tokens are, and safe to put in a header.
    token: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=512, pattern=r"^[!-~]+$"),
    ]


class GitLabLoginResponse(TokenResponse):
    """Tokens of a GitLab-token sign-in, and when that GitLab token expires."""

    gitlab_token_expires_at: datetime | None = Field(
        description="When the GitLab token stops working (None: it never expires)."
    )
    warning: str | None = Field(
        default=None, description="Set when the GitLab token expires within a few days."
    )


class RefreshRequest(_Input):
    """A refresh token to trade for new tokens (browsers send it as a cookie instead)."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class LogoutRequest(_Input):
    """The refresh token of the sign-in to end; ``everywhere`` ends every sign-in of the user."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    everywhere: bool = False


class MeOut(BaseModel):
    """The signed-in user."""

    id: int
    username: str
    display_name: str
    email: str | None
    roles: list[str]
    is_active: bool

    @classmethod
    def of(cls, user: User) -> MeOut:
        """Shape a user row."""
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            roles=sorted(user.role_names),
            is_active=user.is_active,
        )


class UserOut(MeOut):
    """A user as administrators see it."""

    gitlab_user_id: int | None
    has_password: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        """Shape a user row."""
        return cls(
            **MeOut.of(user).model_dump(),
            gitlab_user_id=user.gitlab_user_id,
            has_password=user.password_hash is not None,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserPage(BaseModel):
    """One page of users."""

    items: list[UserOut]
    total: int
    page: int
    per_page: int


class UserCreate(_Input):
    """A new user with a password; roles default to the configured default role."""

    username: Username
    display_name: DisplayName | None = None
    email: Email | None = None
    password: Password
    roles: Roles | None = None


class UserUpdate(_Input):
    """Changes to a user; only the fields sent are changed (``email: null`` clears it)."""

    display_name: DisplayName | None = None
    email: Email | None = None
    roles: Roles | None = None
    is_active: bool | None = None
    password: Password | None = None
