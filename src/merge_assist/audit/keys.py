"""The audit key: what keyed audit entries are sealed with (HMAC-SHA256), kept out of the database.

``MERGE_ASSIST_AUDIT_KEY`` when set (at least 32 characters; keep it with your other secrets,
e.g. the mounted or AWS secrets), otherwise derived from the server's secret key under a label
of its own (so it is never the key that signs tokens). Either way a database writer — a leaked
database password, a restored backup edited by hand — does not have it.

Sessions carry the settings they were made with (``kit.db.create_sessionmaker(engine,
settings)``); the audit service reads the key from there, so every way of appending (requests,
workers, the command line) seals entries with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.db import settings_of
from merge_assist.kit.settings import Settings

DERIVATION_LABEL = b"merge-assist/audit-chain/v1"
MIN_AUDIT_KEY_CHARS = 32


def audit_key(settings: Settings) -> bytes:
    """The audit key of ``settings``: ``audit_key``, or derived from the secret key."""
    if settings.audit_key is not None and settings.audit_key.get_secret_value():
        configured = settings.audit_key.get_secret_value()
        if len(configured) < MIN_AUDIT_KEY_CHARS:
            raise ValueError(
                f"MERGE_ASSIST_AUDIT_KEY must be at least {MIN_AUDIT_KEY_CHARS} characters "
                "(use e.g. `openssl rand -base64 48`)"
            )
        return _stretch(configured, b"merge-assist/audit-chain/configured")
    return _stretch(settings.resolved_secret_key(), DERIVATION_LABEL)


@lru_cache(maxsize=8)
def _stretch(material: str, label: bytes) -> bytes:
    return hmac.new(material.encode("utf-8"), label, hashlib.sha256).digest()


def session_audit_key(session: AsyncSession) -> bytes:
    """The audit key of the settings ``session`` was made with."""
    settings = settings_of(session)
    if settings is None:
        raise RuntimeError(
            "this database session has no settings, so audit entries cannot be sealed: make "
            "sessions with kit.db.create_sessionmaker(engine, settings)"
        )
    return audit_key(settings)
