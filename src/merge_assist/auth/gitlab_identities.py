"""GitLab identities of users: their GitLab account and personal access token, encrypted.

Other features call :func:`gitlab_token_for` (e.g. the vault, to author a check-in as its
owner) and :func:`gitlab_username_for`. The token is kept only while it may be needed: it is
deleted when its owner asks (:func:`forget_token`, ``DELETE /api/auth/gitlab-token``), signs
out everywhere, gets a new password or is deactivated (``revocation.end_sessions``), and when it
is found expired. The token is sealed with the server keyring for the
purpose ``gitlab-pat`` (AES-GCM, versioned key: see ``kit.crypto``) and bound to the user's id
as associated data, so a sealed token copied onto another user's row does not open.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.auth.audit_port import AuditSink
from merge_assist.auth.gitlab_rules import AcceptedToken
from merge_assist.auth.models import GitLabIdentity
from merge_assist.gitlab.models import User as GitLabUser
from merge_assist.kit.clock import utcnow
from merge_assist.kit.crypto import DecryptionError, Keyring, server_keyring
from merge_assist.kit.settings import Settings

PAT_PURPOSE = "gitlab-pat"

log = logging.getLogger(__name__)


def pat_keyring(settings: Settings) -> Keyring:
    """The keyring GitLab tokens are sealed with."""
    return server_keyring(settings, purpose=PAT_PURPOSE)


def _associated_data(user_id: int) -> bytes:
    return f"gitlab-identities:user:{user_id}".encode("ascii")


def seal_token(settings: Settings, user_id: int, token: str) -> str:
    """The envelope of ``user_id``'s GitLab token (what the database keeps)."""
    return pat_keyring(settings).encrypt(
        token.encode("utf-8"), associated_data=_associated_data(user_id)
    )


async def remember_token(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: int,
    gitlab_user: GitLabUser,
    token: str,
    accepted: AcceptedToken,
    now: datetime,
) -> GitLabIdentity:
    """Store (or replace) the GitLab account and token ``user_id`` signed in with."""
    identity = await repository.gitlab_identity_of(session, user_id)
    if identity is None:
        identity = GitLabIdentity(user_id=user_id)
        session.add(identity)
    identity.gitlab_user_id = gitlab_user.id
    identity.gitlab_username = gitlab_user.username
    identity.token_encrypted = seal_token(settings, user_id, token)
    identity.scopes = " ".join(accepted.scopes)[:1024]
    identity.expires_at = accepted.expires_at
    identity.validated_at = now
    await session.flush()
    return identity


async def gitlab_token_for(session: AsyncSession, settings: Settings, user_id: int) -> str | None:
    """The GitLab token ``user_id`` signed in with, decrypted; None if none, expired or unreadable.

    Unreadable means sealed with a key version the server no longer holds: the owner signs in
    with their token again.
    """
    identity = await repository.gitlab_identity_of(session, user_id)
    if identity is None or identity.token_encrypted is None:
        return None
    if identity.expires_at is not None and identity.expires_at <= utcnow():
        # No longer good for anything: not kept either.
        await repository.forget_gitlab_token(session, user_id)
        return None
    try:
        plain = pat_keyring(settings).decrypt(
            identity.token_encrypted, associated_data=_associated_data(user_id)
        )
    except DecryptionError as exc:
        log.warning(
            "stored GitLab token cannot be decrypted",
            extra={"user_id": user_id, "reason": str(exc)},
        )
        return None
    return plain.decode("utf-8")


async def gitlab_api_token_for(
    session: AsyncSession, settings: Settings, user_id: int
) -> str | None:
    """Like ``gitlab_token_for``, but only a token with the ``api`` scope: writing commits
    through GitLab's REST API needs it (``read_api`` + repository scopes cannot)."""
    identity = await repository.gitlab_identity_of(session, user_id)
    if identity is None or "api" not in identity.scopes.split():
        return None
    return await gitlab_token_for(session, settings, user_id)


async def forget_token(session: AsyncSession, audit: AuditSink, *, user_id: int) -> bool:
    """Delete the GitLab token ``user_id`` signed in with, at their request (the account and
    its GitLab username stay); whether there was one. Audited as ``auth.gitlab_token_forget``."""
    forgotten = await repository.forget_gitlab_token(session, user_id)
    await audit.record(
        session,
        actor_id=user_id,
        action="auth.gitlab_token_forget",
        target=f"user:{user_id}",
        success=True,
        details={"had_token": forgotten},
    )
    return forgotten


async def gitlab_username_for(session: AsyncSession, user_id: int) -> str | None:
    """The GitLab username ``user_id`` last signed in as; None if they never used a token."""
    identity = await repository.gitlab_identity_of(session, user_id)
    return identity.gitlab_username if identity is not None else None


async def tokens_expiring(
    session: AsyncSession, before: datetime
) -> list[tuple[int, str, datetime]]:
    """(user id, GitLab username, expiry) of the stored tokens expiring before ``before``."""
    return [
        (row.user_id, row.gitlab_username, row.expires_at)
        for row in await repository.gitlab_tokens_expiring(session, before)
        if row.expires_at is not None
    ]
