"""What vault requests may carry, checked without I/O: reasons, messages, vault names, sizes."""

from __future__ import annotations

import re
import unicodedata

from merge_assist.kit.body_limit import BodyLimit
from merge_assist.kit.errors import PayloadTooLarge, Unprocessable
from merge_assist.vault.models import MAX_REASON

MAX_MESSAGE = 2000
_VAULT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LINE_BREAKS = frozenset("\n\r\t")


def _controls(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in _LINE_BREAKS for ch in text)


def clean_reason(reason: str, *, what: str = "reason") -> str:
    """A check-out or force reason: 1 to 500 characters, not only spaces."""
    value = reason.strip()
    if not value:
        raise Unprocessable(f"Give a {what} (1 to {MAX_REASON} characters).")
    if len(value) > MAX_REASON:
        raise Unprocessable(
            f"The {what} has {len(value)} characters; at most {MAX_REASON} are allowed."
        )
    if _controls(value):
        raise Unprocessable(f"The {what} must not contain control characters.")
    return value


def clean_message(message: str | None, default: str) -> str:
    """A version's message (``default`` when blank): at most 2000 characters."""
    value = (message or "").strip() or default
    if len(value) > MAX_MESSAGE:
        raise Unprocessable(
            f"The message has {len(value)} characters; at most {MAX_MESSAGE} are allowed."
        )
    if _controls(value):
        raise Unprocessable("The message must not contain control characters.")
    return value


def clean_vault_name(name: str) -> str:
    """A vault's name: lower-case letters, digits, '-' and '_', 1 to 64 characters."""
    value = name.strip().lower()
    if not _VAULT_NAME.match(value):
        raise Unprocessable(
            "A vault name has 1 to 64 lower-case letters, digits, '-' or '_' "
            "and starts with a letter or digit."
        )
    return value


# What a multipart upload carries besides the file (boundaries, names, message, base version).
FORM_OVERHEAD_BYTES = 256 * 1024


def upload_body_limit(max_upload_bytes: int) -> BodyLimit:
    """The largest request body the vault's endpoints read: the file limit and its form."""
    return BodyLimit(
        prefix="/api/vault/",
        max_bytes=max_upload_bytes + FORM_OVERHEAD_BYTES,
        sentence=(
            f"The upload is larger than the vault accepts ({max_upload_bytes / 1048576:.1f} MiB "
            "per file, MERGE_ASSIST_VAULT_MAX_UPLOAD_BYTES)."
        ),
    )


def check_size(size: int, limit: int) -> None:
    """Refuse content larger than ``limit`` bytes (413 with both sizes in MiB)."""
    if size > limit:
        raise PayloadTooLarge(
            f"The file has {size / 1048576:.1f} MiB; the vault accepts at most "
            f"{limit / 1048576:.1f} MiB (MERGE_ASSIST_VAULT_MAX_UPLOAD_BYTES)."
        )
