"""Signing in with a GitLab personal access token.

GitLab checks the token (``GET /user`` and ``GET /personal_access_tokens/self``);
:mod:`gitlab_rules` decides whether it is good enough. The user is found by **GitLab user id**
only, never by a same-named local account; a GitLab user signing in for the first time is
registered with ``MERGE_ASSIST_GITLAB_LOGIN_DEFAULT_ROLE`` (default ``viewer``; ``none``: no
role) under their GitLab username, or a distinct one (``<name>-gitlab``) when a local account
already holds it. With ``MERGE_ASSIST_GITLAB_LOGIN_ALLOWED_GROUPS`` set, every sign-in asks
GitLab (with the user's own token) for their groups and is refused unless one is allowed.
The token is kept encrypted (:mod:`gitlab_identities`) and its owner is warned once, by a
message, when it expires soon (through ``UserNotices``: messaging delivers it, auth does not
import it). Failures count towards the per-address throttling of password sign-in.

Like :mod:`service`, this never commits; refusals leave the failed attempt in the session
for the caller to commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.auth.attempts import LoginReservation, reserve_token_attempt
from merge_assist.auth.audit_port import AuditSink, ClientInfo
from merge_assist.auth.gitlab_identities import remember_token
from merge_assist.auth.gitlab_rules import (
    AcceptedToken,
    allowed_group_paths,
    assess_token,
    in_allowed_groups,
    missing_scope_sentence,
    outside_groups_sentence,
    username_candidates,
)
from merge_assist.auth.models import GitLabIdentity, User
from merge_assist.auth.notices import UserNotices
from merge_assist.auth.reserved_names import is_reserved, unreserved_display_name
from merge_assist.auth.service import TokenPair, complete_login
from merge_assist.gitlab import (
    GitLabAuthError,
    GitLabClient,
    GitLabError,
    GitLabForbidden,
    GitLabNotFound,
)
from merge_assist.gitlab.models import PersonalAccessToken
from merge_assist.gitlab.models import User as GitLabUser
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import (
    Conflict,
    Forbidden,
    MergeAssistError,
    NotAuthenticated,
    ServiceUnavailable,
)
from merge_assist.kit.refusals import refusal_details
from merge_assist.kit.settings import Settings

# Login attempts need a name; '@' cannot start a username, so this never throttles a person.
TOKEN_ATTEMPT_NAME = "@gitlab-token"  # noqa: S105 - a label, not a secret
EXPIRY_SUBJECT = "Your GitLab token expires soon"
NO_ROLE = "none"  # MERGE_ASSIST_GITLAB_LOGIN_DEFAULT_ROLE for "registered without a role"


@dataclass(frozen=True)
class GitLabSignIn:
    """A successful token sign-in: the tokens, the user, and what to tell them."""

    pair: TokenPair
    user_id: int
    gitlab_token_expires_at: datetime | None
    warning: str | None


async def login_with_gitlab_token(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    notices: UserNotices,
    *,
    token: str,
    client: ClientInfo,
    reservation: LoginReservation | None = None,
) -> GitLabSignIn:
    """Sign in with a GitLab token: 401/403 with a reason, 429 when throttled.

    ``reservation`` is the attempt counted beforehand (``attempts.reserve_token_attempt``,
    committed); without one it is reserved here, in ``session``.
    """
    now = utcnow()
    if reservation is None:
        reservation = await reserve_token_attempt(
            session, settings, audit, attempt_name=TOKEN_ATTEMPT_NAME, client=client
        )
    try:
        gitlab_user, token_info = await _ask_gitlab(settings, token)
        accepted = assess_token(
            gitlab_user, token_info, now=now, warning_days=settings.gitlab_token_warning_days
        )
        await _refuse_outside_allowed_groups(settings, token)
        user = await _linked_or_new_user(session, settings, audit, gitlab_user, now)
    except (NotAuthenticated, Forbidden) as refusal:
        await _record_failure(session, audit, client, refusal)  # the reserved attempt counts
        raise
    except MergeAssistError:
        # GitLab could not answer (or a race): the caller's token was not judged.
        await repository.drop_login_attempt(session, reservation.attempt_id)
        raise
    identity = await remember_token(
        session,
        settings,
        user_id=user.id,
        gitlab_user=gitlab_user,
        token=token,
        accepted=accepted,
        now=now,
    )
    await _warn_once(session, notices, identity, accepted)
    pair = await complete_login(
        session,
        settings,
        audit,
        user=user,
        reservation=reservation,
        client=client,
        details={"method": "gitlab_token", "gitlab_user_id": gitlab_user.id},
    )
    return GitLabSignIn(pair, user.id, accepted.expires_at, accepted.warning)


async def _ask_gitlab(settings: Settings, token: str) -> tuple[GitLabUser, PersonalAccessToken]:
    """The token's user and the token's details, from GitLab; refusals as our 401/403."""
    if not settings.gitlab_url:
        raise ServiceUnavailable(
            "Signing in with a GitLab token is not available: MERGE_ASSIST_GITLAB_URL is not set."
        )
    async with GitLabClient.from_settings(settings, token) as gitlab:
        try:
            gitlab_user = await gitlab.current_user()
            token_info = await gitlab.token_self()
        except GitLabAuthError as exc:
            raise NotAuthenticated(_unaccepted_sentence(exc.message)) from None
        except GitLabForbidden:
            raise Forbidden(missing_scope_sentence()) from None
        except GitLabNotFound as exc:
            # A wrong MERGE_ASSIST_GITLAB_URL, or a GitLab older than 15.5 (no .../self).
            raise ServiceUnavailable(
                f"GitLab answered 404 to {exc.operation}: check MERGE_ASSIST_GITLAB_URL; "
                "signing in with a GitLab token needs GitLab 15.5 or newer."
            ) from None
    return gitlab_user, token_info


async def _refuse_outside_allowed_groups(settings: Settings, token: str) -> None:
    """403 unless the token's user belongs to an allowed group (when a list is set); asked of
    GitLab with the user's own token at every sign-in, so leaving the group ends sign-ins."""
    allowed = allowed_group_paths(settings.gitlab_login_allowed_groups)
    if not allowed:
        return
    async with GitLabClient.from_settings(settings, token) as gitlab:
        try:
            groups = await gitlab.my_groups()
        except GitLabAuthError as exc:
            raise NotAuthenticated(_unaccepted_sentence(exc.message)) from None
        except GitLabForbidden:
            raise Forbidden(missing_scope_sentence()) from None
        except GitLabError:
            raise ServiceUnavailable(
                "GitLab did not say which groups you belong to, which signing in here needs; "
                "try again in a moment."
            ) from None
    if not in_allowed_groups((group.full_path for group in groups), allowed):
        raise Forbidden(outside_groups_sentence())


def _unaccepted_sentence(reason: str) -> str:
    lowered = reason.lower()
    if "revoked" in lowered:
        return "This GitLab token has been revoked; create a new personal access token in GitLab."
    if "expired" in lowered:
        return "This GitLab token has expired; create a new personal access token in GitLab."
    return (
        "GitLab does not accept this token; check that you copied all of it and that it is "
        "a personal access token of this GitLab."
    )


async def _linked_or_new_user(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    gitlab_user: GitLabUser,
    now: datetime,
) -> User:
    """The user linked to this GitLab account, or a new one; a deactivated one is refused."""
    user = await repository.user_by_gitlab_id(session, gitlab_user.id)
    if user is None:
        return await _register(session, settings, audit, gitlab_user, now)
    if not user.is_active:
        raise NotAuthenticated("This account is deactivated; ask an administrator.")
    return user


async def _register(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    gitlab_user: GitLabUser,
    now: datetime,
) -> User:
    candidates = [
        name
        for name in username_candidates(gitlab_user.username, gitlab_user.id)
        if not is_reserved(name)  # "merge-assist" on GitLab becomes "merge-assist-gitlab"
    ]
    taken = await repository.usernames_taken(session, candidates)
    username = next((name for name in candidates if name not in taken), None)
    if username is None:
        raise Conflict(
            f"Every local username for the GitLab user {gitlab_user.username!r} is taken; "
            "ask an administrator to free one."
        )
    user = User(
        username=username,
        display_name=unreserved_display_name(gitlab_user.name or gitlab_user.username, 128),
        email=_email_of(gitlab_user),
        password_hash=None,
        is_active=True,
        gitlab_user_id=gitlab_user.id,
        created_at=now,
        updated_at=now,
        roles=await repository.roles_named(session, _default_roles(settings)),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent first sign-in of the same person (or a same-named creation) won the race.
        await session.rollback()
        raise Conflict(
            "Another sign-in registered this GitLab account at the same moment; sign in again."
        ) from None
    await audit.record(
        session,
        actor_id=user.id,
        action="user.create",
        target=f"user:{user.id}",
        success=True,
        details={
            "username": user.username,
            "roles": sorted(user.role_names),
            "via": "gitlab_token",
            "gitlab_user_id": gitlab_user.id,
            "gitlab_username": gitlab_user.username,
        },
    )
    return user


def _default_roles(settings: Settings) -> list[str]:
    """The roles of a newly registered GitLab user: the configured one, or none."""
    role = settings.gitlab_login_default_role
    return [] if role == NO_ROLE else [role]


def _email_of(gitlab_user: GitLabUser) -> str | None:
    email = gitlab_user.email or gitlab_user.public_email
    return email if email and len(email) <= 254 else None


async def _warn_once(
    session: AsyncSession,
    notices: UserNotices,
    identity: GitLabIdentity,
    accepted: AcceptedToken,
) -> None:
    """Tell the owner about a soon-expiring token (a message), once per expiry date."""
    if accepted.warning is None or identity.expiry_warned_for == accepted.expires_at:
        return
    await notices.notify(
        session, user_id=identity.user_id, subject=EXPIRY_SUBJECT, body=accepted.warning
    )
    identity.expiry_warned_for = accepted.expires_at
    await session.flush()


async def _record_failure(
    session: AsyncSession,
    audit: AuditSink,
    client: ClientInfo,
    refusal: MergeAssistError,
) -> None:
    await audit.record(
        session,
        actor_id=None,
        action="auth.login",
        target="gitlab-token",
        success=False,
        details=refusal_details(
            refusal, method="gitlab_token", reason=refusal.code, address=client.address
        ),
    )
