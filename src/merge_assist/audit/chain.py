"""The hash chain, as pure logic: canonical form, hashing, detail scrubbing, verification.

Each entry's hash is the SHA-256 of a canonical JSON document holding the entry's fields and
the previous entry's hash, so editing, deleting, inserting or re-ordering any entry breaks the
link of the entry that follows it (or its own hash). Removing the newest entries cannot be
detected from the chain alone; operators who need that keep the head hash that ``verify``
reports somewhere else (a ticket, a log shipper) and compare.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

HASH_FORMAT_VERSION = 1
MAX_DETAILS_BYTES = 64 * 1024
_ACTION = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$")
# Keys that name secrets. Keys ending in ``_id`` (``token_id``) name a row, not a secret.
_SECRET_KEY = re.compile(
    r"(?i)(passw(or)?d|passphrase|token|secret|api[_-]?key|private[_-]?key|"
    r"authori[sz]ation|cookie|credential|signature)"
)


@dataclass(frozen=True)
class EntryFields:
    """What an entry says, without its place in the chain."""

    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str | None
    target_id: str | None
    success: bool
    details: dict[str, Any]


@dataclass(frozen=True)
class ChainBreak:
    """The first entry where the chain does not hold, and why."""

    entry_id: int
    reason: str


def _dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_json(fields: EntryFields, prev_hash: str) -> bytes:
    """The exact bytes that are hashed: sorted keys, no spaces, UTC microsecond timestamps."""
    document = {
        "v": HASH_FORMAT_VERSION,
        "occurred_at": fields.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": fields.actor_id,
        "actor_name": fields.actor_name,
        "action": fields.action,
        "target_type": fields.target_type,
        "target_id": fields.target_id,
        "success": fields.success,
        "details": fields.details,
        "prev_hash": prev_hash,
    }
    return _dumps(document).encode("utf-8")


def compute_hash(fields: EntryFields, prev_hash: str) -> str:
    """SHA-256 hex of the canonical form of ``fields`` linked to ``prev_hash``."""
    return hashlib.sha256(canonical_json(fields, prev_hash)).hexdigest()


def is_secret_key(key: str) -> bool:
    """Whether a details key names something that must never be stored (password, token...)."""
    return bool(_SECRET_KEY.search(key)) and not key.lower().endswith("_id")


def scrub_secrets(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """``value`` without secret-named keys (at any depth), and the paths of the keys dropped."""
    dropped: list[str] = []
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else str(key)
            if is_secret_key(str(key)):
                dropped.append(key_path)
                continue
            kept[key], inner = scrub_secrets(item, key_path)
            dropped.extend(inner)
        return kept, dropped
    if isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value):
            clean, inner = scrub_secrets(item, f"{path}[{index}]")
            items.append(clean)
            dropped.extend(inner)
        return items, dropped
    return value, dropped


def normalise_details(details: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Details as the database will give them back (JSON round trip), minus secret keys.

    Raises ``TypeError``/``ValueError`` for details that are not JSON (a caller's bug).
    """
    if details is None:
        return {}, []
    if not isinstance(details, dict):
        raise TypeError("audit details must be a dict")
    try:
        text = _dumps(details)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"audit details must be JSON-serialisable: {exc}") from exc
    if len(text.encode("utf-8")) > MAX_DETAILS_BYTES:
        raise ValueError(f"audit details are larger than {MAX_DETAILS_BYTES} bytes")
    clean, dropped = scrub_secrets(json.loads(text))
    return clean, dropped


def validate_action(action: str) -> None:
    """Actions are dotted lower-case names such as ``vault.checkout``."""
    if len(action) > 100 or not _ACTION.match(action):
        raise ValueError(f"audit action {action!r} is not a dotted lower-case name")


class ChainWalker:
    """Checks entries one by one, in id order, without holding more than the last hash."""

    def __init__(self) -> None:
        self.expected_prev = GENESIS_HASH
        self.previous_id: int | None = None
        self.checked = 0

    def check(
        self, entry_id: int, fields: EntryFields, prev_hash: str, entry_hash: str
    ) -> ChainBreak | None:
        """The break at this entry, or ``None`` when it links and its hash matches."""
        if prev_hash != self.expected_prev:
            return ChainBreak(entry_id, self._link_reason())
        if compute_hash(fields, prev_hash) != entry_hash:
            return ChainBreak(
                entry_id, "the entry was changed after it was written (its hash does not match)"
            )
        self.expected_prev = entry_hash
        self.previous_id = entry_id
        self.checked += 1
        return None

    def _link_reason(self) -> str:
        if self.previous_id is None:
            return "the first entry does not start the chain (entries before it were deleted)"
        return (
            f"it does not link to entry #{self.previous_id} "
            "(an entry was deleted, inserted or re-ordered between them)"
        )
