"""Who acts in the vault, and as whom their versions are committed.

``actor_for`` is the one place that decides a user's commit identity. When a user signed in
with their own GitLab token (PAT, ``api`` scope), that token is put in ``gitlab_token`` and the
GitLab backend commits with it, so GitLab records the user as author *and* committer. Without
one, the user cannot change a GitLab-backed vault (403 with a sentence): the bot's token is
never used to write for a user. Local vaults commit with the user's name and email as author.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import accounts, gitlab_identities
from merge_assist.auth.principal import Principal
from merge_assist.kit.settings import Settings
from merge_assist.vault.storage import CommitAuthor

# RFC 2606 reserves .invalid: an address that can never reach anyone by accident.
FALLBACK_EMAIL_DOMAIN = "users.merge-assist.invalid"


@dataclass(frozen=True)
class VaultActor:
    """A user acting in the vault; ``gitlab_token`` is their own PAT when known (never shown)."""

    user_id: int
    username: str
    display_name: str
    email: str
    is_admin: bool = False
    gitlab_token: str | None = field(default=None, repr=False)

    @property
    def author(self) -> CommitAuthor:
        """The commit author of this user's versions."""
        return CommitAuthor(self.display_name or self.username, self.email)


async def actor_for(principal: Principal, session: AsyncSession, settings: Settings) -> VaultActor:
    """The vault actor of the signed-in ``principal``, with their own GitLab token (``api``
    scope) when they signed in with one."""
    user = await accounts.get_user(session, principal.id)
    email = user.email or f"{user.username}@{FALLBACK_EMAIL_DOMAIN}"
    return VaultActor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        email=email,
        is_admin=principal.is_admin,
        gitlab_token=await gitlab_identities.gitlab_api_token_for(session, settings, user.id),
    )
