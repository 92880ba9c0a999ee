"""Access tokens (short-lived JWT, HS256) and opaque refresh tokens (stored as SHA-256).

Functions here take the product secret key; the JWT is signed with a key derived from it for
that purpose alone (``signing_key``, ``kit.crypto.derive_key``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from merge_assist.kit.clock import utcnow
from merge_assist.kit.crypto import JWT_SIGNING, derive_key

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
_REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "type"]


class InvalidAccessToken(Exception):
    """The access token is missing, malformed, badly signed, expired or of the wrong type."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signing_key(secret_key: str) -> bytes:
    """The HS256 key: derived from the product secret key for this purpose only."""
    return derive_key(secret_key, JWT_SIGNING)


@dataclass(frozen=True)
class AccessToken:
    """An issued access token and how long it lives."""

    token: str
    expires_in: int


def issue_access_token(
    user_id: int, *, key: str, minutes: int, now: datetime | None = None
) -> AccessToken:
    """Sign an access token for ``user_id`` valid for ``minutes``."""
    issued = now or utcnow()
    claims = {
        "sub": str(user_id),
        # To the microsecond (RFC 7519 allows fractions): compared with the user's
        # ``tokens_valid_after``, so a token issued just before a sign-out everywhere dies.
        "iat": round(issued.timestamp(), 6),
        "exp": int((issued + timedelta(minutes=minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
        "type": ACCESS_TOKEN_TYPE,
    }
    return AccessToken(jwt.encode(claims, signing_key(key), algorithm=ALGORITHM), minutes * 60)


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says: whose it is, when it was issued and when it expires."""

    user_id: int
    issued_at: float
    expires_at: float


def read_access_token(token: str, *, key: str) -> int:
    """The user id of a valid access token; raises ``InvalidAccessToken`` otherwise."""
    return read_access_claims(token, key=key).user_id


def read_access_claims(token: str, *, key: str) -> AccessClaims:
    """The claims of a valid access token; raises ``InvalidAccessToken`` otherwise."""
    try:
        claims = jwt.decode(
            token, signing_key(key), algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS}
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidAccessToken("The access token has expired; refresh it or sign in.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken("The access token is not valid; sign in again.") from exc
    subject = claims.get("sub")
    if claims.get("type") != ACCESS_TOKEN_TYPE or not isinstance(subject, str):
        raise InvalidAccessToken("The access token is not valid; sign in again.")
    if not (subject.isascii() and subject.isdigit()):
        raise InvalidAccessToken("The access token is not valid; sign in again.")
    issued, expires = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (issued, expires)):
        raise InvalidAccessToken("The access token is not valid; sign in again.")
    return AccessClaims(int(subject), float(issued), float(expires))  # type: ignore[arg-type]


def new_refresh_token() -> str:
    """A random opaque refresh token (shown to the client once, stored only hashed)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_family_id() -> str:
    """The id shared by every rotation of one sign-in."""
    return uuid.uuid4().hex
