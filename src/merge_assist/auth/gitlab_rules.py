"""What a GitLab personal access token must be to sign in with it (pure, no I/O).

GitLab tells us the token's user (``GET /user``) and the token itself
(``GET /personal_access_tokens/self``: scopes, expiry, revoked). :func:`assess_token` turns
those into an accepted token (with an expiry warning when it ends soon) or a refusal a person
can act on. :func:`username_candidates` picks local usernames for a GitLab user who signs in
for the first time: the GitLab username when it is free, otherwise a distinct one — a GitLab
account never takes over a same-named local account.

Which scopes: Merge Assist uses the token to act as its owner — the vault commits check-ins
authored by them and takes Git LFS locks in their name — so it needs to read through the API
and to write to repositories. A token passes with ``api`` (everything), or with ``read_api``
together with ``read_repository`` and ``write_repository`` (the least it takes: API reads,
git push and LFS locks over HTTP; REST commits then are not possible, so the vault commits
with git). ``read_api`` or ``read_user`` alone would let a person sign in and then fail at
their first check-in, so they are refused at sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from merge_assist.gitlab.models import PersonalAccessToken
from merge_assist.gitlab.models import User as GitLabUser
from merge_assist.kit.errors import Forbidden, NotAuthenticated

# A token passes with every scope of one of these sets (see the module docstring).
SUFFICIENT_SCOPES: tuple[frozenset[str], ...] = (
    frozenset({"api"}),
    frozenset({"read_api", "read_repository", "write_repository"}),
)
USERNAME_MIN = 3
USERNAME_MAX = 64
DISTINCT_SUFFIX = "-gitlab"
_NOT_USERNAME = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class AcceptedToken:
    """A token good for signing in: its scopes, when it stops working, and a warning if soon."""

    scopes: tuple[str, ...]
    expires_at: datetime | None
    warning: str | None


def expiry_instant(expires_on: date | None) -> datetime | None:
    """When a token expiring on ``expires_on`` stops working: the start of that day (UTC).

    GitLab treats a token as expired on its expiry date, so the first instant of the day is the
    safe reading.
    """
    if expires_on is None:
        return None
    return datetime.combine(expires_on, time.min, tzinfo=UTC)


def assess_token(
    user: GitLabUser, token: PersonalAccessToken, *, now: datetime, warning_days: int
) -> AcceptedToken:
    """Accept the token or raise ``NotAuthenticated`` (401) / ``Forbidden`` (403) with a reason."""
    expires_at = expiry_instant(token.expires_at)
    if token.revoked:
        raise NotAuthenticated(
            "This GitLab token has been revoked; create a new personal access token in GitLab."
        )
    if expires_at is not None and expires_at <= now:
        raise NotAuthenticated(
            f"This GitLab token expired on {token.expires_at}; create a new personal access "
            "token in GitLab."
        )
    if not token.active or (token.user_id is not None and token.user_id != user.id):
        raise NotAuthenticated(
            "GitLab says this token is no longer active; create a new personal access token."
        )
    if user.bot:
        raise Forbidden(
            "This is a project or group access token (a bot user); sign in with a personal "
            "access token of your own GitLab account."
        )
    if user.state not in (None, "active"):
        raise Forbidden(
            f"Your GitLab account is {user.state}; ask a GitLab administrator to reactivate it."
        )
    if not has_sufficient_scopes(token.scopes):
        raise Forbidden(missing_scope_sentence())
    return AcceptedToken(
        scopes=tuple(token.scopes),
        expires_at=expires_at,
        warning=expiry_warning(token.expires_at, expires_at, now=now, warning_days=warning_days),
    )


def has_sufficient_scopes(scopes: Iterable[str]) -> bool:
    """Whether ``scopes`` hold every scope of one of :data:`SUFFICIENT_SCOPES`."""
    held = set(scopes)
    return any(needed <= held for needed in SUFFICIENT_SCOPES)


def missing_scope_sentence() -> str:
    """Why a token without enough scopes is refused."""
    return (
        "This GitLab token does not have the scopes Merge Assist needs to commit your "
        "check-ins as you; create a personal access token with the 'api' scope, or with "
        "'read_api', 'read_repository' and 'write_repository'."
    )


def expiry_warning(
    expires_on: date | None, expires_at: datetime | None, *, now: datetime, warning_days: int
) -> str | None:
    """A sentence when the token stops working within ``warning_days``; None otherwise."""
    if expires_on is None or expires_at is None:
        return None
    left = expires_at - now
    if left > timedelta(days=warning_days):
        return None
    days = max(0, left.days)
    when = "within a day" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    return (
        f"Your GitLab token expires on {expires_on.isoformat()} ({when}); create a new one in "
        "GitLab and sign in with it to keep committing as yourself."
    )


def allowed_group_paths(setting: str) -> tuple[str, ...]:
    """The group paths of ``MERGE_ASSIST_GITLAB_LOGIN_ALLOWED_GROUPS``: lower-cased, without
    surrounding slashes or blanks (GitLab paths are case-insensitive); empty: no group check."""
    paths = (part.strip().strip("/").lower() for part in setting.split(","))
    return tuple(dict.fromkeys(path for path in paths if path))


def in_allowed_groups(member_of: Iterable[str], allowed: Iterable[str]) -> bool:
    """Whether a user who is a member of the groups ``member_of`` (full paths) belongs to one
    of the ``allowed`` groups: the same group, one of its subgroups, or a parent group of it
    (GitLab: a member of a group is a member of its subgroups)."""
    wanted = [path.lower() for path in allowed]
    for group in member_of:
        mine = group.strip("/").lower()
        for path in wanted:
            if mine == path or mine.startswith(path + "/") or path.startswith(mine + "/"):
                return True
    return False


def outside_groups_sentence() -> str:
    """Why a GitLab user outside every allowed group may not sign in."""
    return (
        "Your GitLab account is not a member of any GitLab group allowed to use Merge Assist; "
        "ask your administrator which group that is, and a maintainer of it to add you."
    )


def username_candidates(gitlab_username: str, gitlab_user_id: int) -> Iterator[str]:
    """Local usernames to try, in order, for a GitLab user signing in for the first time.

    The GitLab username (lowercased, made valid) first; when a local account holds it, a
    distinct name with ``-gitlab`` (then ``-gitlab-2``, ...); last ``gitlab-<id>``. The caller
    takes the first one nobody holds.
    """
    base = _NOT_USERNAME.sub("-", gitlab_username.lower()).strip("-") or "gitlab"
    if len(base) < USERNAME_MIN:
        base = f"{base}{DISTINCT_SUFFIX}"
    names = [base[:USERNAME_MAX]]
    for number in range(1, 10):
        suffix = DISTINCT_SUFFIX if number == 1 else f"{DISTINCT_SUFFIX}-{number}"
        names.append(base[: USERNAME_MAX - len(suffix)] + suffix)
    names.append(f"gitlab-{gitlab_user_id}")
    yield from dict.fromkeys(names)  # in order, each once
