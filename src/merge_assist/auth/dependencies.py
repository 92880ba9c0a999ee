"""Request authentication: ``CurrentUser``, ``require_roles`` and ``AdminUser``.

The bearer token comes from the ``Authorization`` header only, never from the query string.
The user and their roles are read from the database on every request, so deactivation and
role changes take effect at once; a token issued before the user's ``tokens_valid_after``
(sign-out everywhere, new password, deactivation, role change) is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from merge_assist.auth.principal import Principal
from merge_assist.auth.revocation import principal_for_access
from merge_assist.auth.roles import ROLE_NAMES
from merge_assist.auth.tokens import InvalidAccessToken, read_access_claims
from merge_assist.kit.errors import Forbidden, NotAuthenticated
from merge_assist.kit.web import Resources, Session

__all__ = ["AdminUser", "CurrentUser", "Principal", "current_principal", "require_roles"]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


def _challenge(message: str, *, invalid_token: bool) -> NotAuthenticated:
    header = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
    return NotAuthenticated(message, headers={"WWW-Authenticate": header})


async def current_principal(
    token: Annotated[str | None, Depends(_bearer)], session: Session, res: Resources
) -> Principal:
    """The signed-in, active user of this request; 401 otherwise."""
    if not token:
        raise _challenge(
            "Sign in first: send your access token in an 'Authorization: Bearer' header.",
            invalid_token=False,
        )
    try:
        claims = read_access_claims(token, key=res.settings.resolved_secret_key())
    except InvalidAccessToken as exc:
        raise _challenge(exc.reason, invalid_token=True) from exc
    principal, refusal = await principal_for_access(session, claims)
    if principal is None:
        raise _challenge(refusal, invalid_token=True)
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*names: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency letting through users with one of ``names`` (admin always); 403 otherwise."""
    unknown = [name for name in names if name not in ROLE_NAMES]
    if unknown or not names:
        raise ValueError(f"require_roles needs known role names, got {names!r}")
    wanted = ", ".join(names)

    async def _require(principal: CurrentUser) -> Principal:
        if not principal.has_any_role(*names):
            raise Forbidden(f"This needs one of these roles: {wanted}.")
        return principal

    return _require


AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
