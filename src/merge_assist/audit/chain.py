"""The hash chain, as pure logic: canonical form, hashing, detail scrubbing, verification.

Each entry's hash covers a canonical JSON document holding the entry's fields and the previous
entry's hash, so editing, deleting, inserting or re-ordering any entry breaks the link of the
entry that follows it (or its own hash). Removing the newest entries cannot be detected from
the chain alone; operators who need that keep the head hash that ``verify`` reports somewhere
else (a ticket, a log shipper) and compare.

Two hash schemes, recorded per entry (``hash_scheme``):

- **1, unkeyed** (entries written before the chain was keyed): SHA-256 of the document. Anyone
  who can write to the database can rewrite such entries and recompute every hash after them.
- **2, keyed** (every new entry): HMAC-SHA256 of the document under the *audit key*, which is
  not in the database (``audit/keys.py``). A database writer without the key cannot produce a
  valid hash, so rewriting, inserting or deleting entries shows. The first keyed entry links to
  the last unkeyed one, so it seals the older entries too. Once a chain is keyed, an unkeyed
  entry after a keyed one is a break: someone wrote it without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

UNKEYED_SCHEME = 1
KEYED_SCHEME = 2
HASH_FORMAT_VERSION = UNKEYED_SCHEME  # the document's "v" of unkeyed entries
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


def canonical_json(fields: EntryFields, prev_hash: str, scheme: int = HASH_FORMAT_VERSION) -> bytes:
    """The exact bytes that are hashed: sorted keys, no spaces, UTC microsecond timestamps."""
    document = {
        "v": scheme,
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
    """SHA-256 hex of the canonical form of ``fields`` linked to ``prev_hash`` (unkeyed, 1)."""
    return hashlib.sha256(canonical_json(fields, prev_hash)).hexdigest()


def compute_keyed_hash(fields: EntryFields, prev_hash: str, key: bytes) -> str:
    """HMAC-SHA256 hex, under the audit ``key``, of the canonical form (keyed, scheme 2)."""
    document = canonical_json(fields, prev_hash, KEYED_SCHEME)
    return hmac.new(key, document, hashlib.sha256).hexdigest()


def hash_for(fields: EntryFields, prev_hash: str, scheme: int, key: bytes) -> str | None:
    """The hash an entry of ``scheme`` must carry; ``None`` for a scheme that does not exist."""
    if scheme == UNKEYED_SCHEME:
        return compute_hash(fields, prev_hash)
    if scheme == KEYED_SCHEME:
        return compute_keyed_hash(fields, prev_hash, key)
    return None


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


@dataclass(frozen=True)
class StoredLink:
    """An entry's place in the chain as stored: its id, scheme, predecessor and own hash."""

    entry_id: int
    scheme: int
    prev_hash: str
    entry_hash: str


class ChainWalker:
    """Checks entries one by one, in id order, without holding more than the last hash.

    ``key`` is the audit key keyed entries are checked with. The walker counts the unkeyed
    entries and remembers the first keyed one, so ``verify`` can say which chain it checked.
    """

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.expected_prev = GENESIS_HASH
        self.previous_id: int | None = None
        self.checked = 0
        self.unkeyed = 0
        self.first_keyed_id: int | None = None

    def check(self, link: StoredLink, fields: EntryFields) -> ChainBreak | None:
        """The break at this entry, or ``None`` when it links and its hash matches."""
        if link.prev_hash != self.expected_prev:
            return ChainBreak(link.entry_id, self._link_reason())
        if link.scheme == UNKEYED_SCHEME and self.first_keyed_id is not None:
            return ChainBreak(
                link.entry_id,
                f"an unkeyed entry follows keyed ones (keyed from entry #{self.first_keyed_id}): "
                "it was written without the audit key",
            )
        expected = hash_for(fields, link.prev_hash, link.scheme, self.key)
        if expected is None:
            return ChainBreak(link.entry_id, f"unknown hash scheme {link.scheme}")
        if not hmac.compare_digest(expected, link.entry_hash):
            return ChainBreak(link.entry_id, self._hash_reason(link.scheme))
        if link.scheme == KEYED_SCHEME and self.first_keyed_id is None:
            self.first_keyed_id = link.entry_id
        self.unkeyed += link.scheme == UNKEYED_SCHEME
        self.expected_prev = link.entry_hash
        self.previous_id = link.entry_id
        self.checked += 1
        return None

    @staticmethod
    def _hash_reason(scheme: int) -> str:
        if scheme == KEYED_SCHEME:
            return (
                "the entry was changed after it was written, or written without the audit key "
                "(its keyed hash does not match; is this server's audit key the one that "
                "wrote it?)"
            )
        return "the entry was changed after it was written (its hash does not match)"

    def _link_reason(self) -> str:
        if self.previous_id is None:
            return "the first entry does not start the chain (entries before it were deleted)"
        return (
            f"it does not link to entry #{self.previous_id} "
            "(an entry was deleted, inserted or re-ordered between them)"
        )
