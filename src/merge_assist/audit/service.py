"""The audit log's rules: append to the chain, verify it, search and export it.

Callers record *what happened*, never secrets: ``details`` carries ids, names and outcomes. As a
safety net, keys named like secrets (password, token, secret, api_key, ...) are dropped before
anything is stored. Like every service, this one flushes and never commits: the caller's unit of
work commits the action and its audit entry together.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import chain, repository
from merge_assist.audit.keys import session_audit_key
from merge_assist.audit.models import AuditEntry
from merge_assist.audit.repository import AuditQuery
from merge_assist.kit.clock import utcnow

log = logging.getLogger(__name__)

VERIFY_PAGE_SIZE = 1000
UNSEALED_REASON = (
    "no entry is sealed by the audit key, so anyone who can write to the database could have "
    "rewritten them all; if the server was just upgraded, run `merge-assist audit seal` once "
    "(any new entry seals the older ones) and verify again"
)
SEAL_ACTION = "audit.chain.sealed"
EXPORT_PAGE_SIZE = 500


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain: ``ok``, or the first broken entry and why.

    ``head_hash`` is the newest verified hash; recording it elsewhere lets an operator notice
    later if the newest entries were removed (which the chain alone cannot show).
    """

    ok: bool
    checked: int
    first_broken_id: int | None
    reason: str | None
    head_hash: str | None = None
    unkeyed: int = 0
    first_keyed_id: int | None = None

    @property
    def keyed(self) -> bool:
        """Whether the chain (up to where it was checked) is sealed by the audit key."""
        return self.first_keyed_id is not None


@dataclass(frozen=True)
class AuditPage:
    """One page of a search, newest first, with the total number of matches."""

    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


async def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    actor_name: str,
    action: str,
    success: bool,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain (flushed, not committed) and return it.

    ``actor_name`` is kept next to ``actor_id`` so the entry still says who acted after the user
    is deleted; use ``"system"`` (and ``actor_id=None``) for the product's own actions.
    Appends are serialised per database (see ``repository.lock_chain``); the lock is held until
    the caller's transaction ends, so commit promptly after recording.
    """
    chain.validate_action(action)
    if not actor_name or len(actor_name) > 255:
        raise ValueError("audit actor_name must be 1 to 255 characters")
    clean_details, dropped = chain.normalise_details(details)
    if dropped:
        # Key names only: the values are exactly what must not reach a log.
        log.warning("secret-named audit details dropped", extra={"action": action, "keys": dropped})
    key = session_audit_key(session)
    await repository.lock_chain(session)
    prev_hash = await repository.tail_hash(session) or chain.GENESIS_HASH
    # Taken under the lock, so time order follows chain order.
    fields = chain.EntryFields(
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        success=success,
        details=clean_details,
    )
    entry = AuditEntry(
        occurred_at=fields.occurred_at,
        actor_id=fields.actor_id,
        actor_name=fields.actor_name,
        action=fields.action,
        target_type=fields.target_type,
        target_id=fields.target_id,
        success=fields.success,
        details=fields.details,
        prev_hash=prev_hash,
        entry_hash=chain.compute_keyed_hash(fields, prev_hash, key),
        hash_scheme=chain.KEYED_SCHEME,
    )
    return await repository.add(session, entry)


def fields_of(row: Any) -> chain.EntryFields:
    """The hashed fields of a stored entry (an ``AuditEntry`` or a row with the same names)."""
    return chain.EntryFields(
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        success=bool(row.success),
        details=row.details if row.details is not None else {},
    )


async def verify(session: AsyncSession, *, page_size: int = VERIFY_PAGE_SIZE) -> VerifyResult:
    """Walk the whole chain in id order, a page at a time; stop at the first broken entry."""
    walker = chain.ChainWalker(session_audit_key(session))
    after_id = 0
    while True:
        rows = await repository.rows_after(session, after_id, page_size)
        for row in rows:
            link = chain.StoredLink(row.id, row.hash_scheme, row.prev_hash, row.entry_hash)
            broken = walker.check(link, fields_of(row))
            if broken is not None:
                return VerifyResult(
                    False,
                    walker.checked,
                    broken.entry_id,
                    broken.reason,
                    unkeyed=walker.unkeyed,
                    first_keyed_id=walker.first_keyed_id,
                )
        if len(rows) < page_size:
            break
        after_id = rows[-1].id
    head = walker.expected_prev if walker.checked else None
    if walker.checked and walker.first_keyed_id is None:
        # Every entry is unkeyed: written before the upgrade, or the whole history rewritten
        # (and re-hashed) by someone without the audit key. Nothing tells them apart.
        return VerifyResult(
            False,
            walker.checked,
            walker.previous_id,
            UNSEALED_REASON,
            head,
            unkeyed=walker.unkeyed,
        )
    return VerifyResult(
        True,
        walker.checked,
        None,
        None,
        head,
        unkeyed=walker.unkeyed,
        first_keyed_id=walker.first_keyed_id,
    )


def build_query(
    *,
    actor: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    success: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditQuery:
    """Filters with times made timezone-aware (a naive time is taken as UTC)."""
    return AuditQuery(
        actor=actor,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        success=success,
        since=_as_utc(since),
        until=_as_utc(until),
    )


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def search(
    session: AsyncSession, query: AuditQuery = AuditQuery(), *, limit: int = 100, offset: int = 0
) -> AuditPage:
    """Entries matching every filter of ``query``, newest first, ``limit`` from ``offset``.

    Build ``query`` with :func:`build_query` when its times may be naive.
    """
    if limit < 1 or offset < 0:
        raise ValueError("limit must be positive and offset not negative")
    items = list(await repository.search(session, query, limit=limit, offset=offset))
    total = await repository.count(session, query)
    return AuditPage(items=items, total=total, limit=limit, offset=offset)


def export(
    session: AsyncSession,
    query: AuditQuery | None = None,
    *,
    page_size: int = EXPORT_PAGE_SIZE,
) -> AsyncIterator[AuditEntry]:
    """Every matching entry in chain order, streamed page by page."""
    return repository.stream(session, query or AuditQuery(), page_size=page_size)


async def seal(session: AsyncSession) -> AuditEntry:
    """Append a keyed entry (``audit.chain.sealed``, by the system): it seals every older one."""
    return await record(
        session,
        actor_id=None,
        actor_name="system",
        action=SEAL_ACTION,
        success=True,
        details={"reason": "operator sealed the chain with the audit key"},
    )
