"""Personal access token values: generation and hashing (only the hash is ever stored)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "glpat-"  # noqa: S105 - a format prefix, not a secret

# The scopes GitLab grants PATs; ``api`` allows everything, ``read_api`` only reads.
KNOWN_SCOPES = frozenset(
    {
        "api",
        "read_api",
        "read_user",
        "read_repository",
        "write_repository",
        "sudo",
        "admin_mode",
        "create_runner",
        "ai_features",
        "k8s_proxy",
        "read_registry",
        "write_registry",
    }
)


def new_token_value() -> str:
    """A fresh random token in GitLab's ``glpat-`` format."""
    return TOKEN_PREFIX + secrets.token_urlsafe(15)


def hash_token(value: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(value.encode()).hexdigest()
