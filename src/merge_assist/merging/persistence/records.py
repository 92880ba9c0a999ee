"""What the runner records besides the state: merge history (once per key), the queue's log,
audit entries for landings, rejections and batches, and notices to MR authors.

Everything here only adds to the caller's session (flush, never commit): the runner writes it
in the same transaction as the state it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.kit.errors import MergeAssistError
from merge_assist.kit.logging import redact
from merge_assist.merging.engine.actions import RecordHistory
from merge_assist.merging.engine.observations import MergeRequestSnapshot
from merge_assist.merging.persistence.models import MergeHistoryEntry, QueueLogEntry
from merge_assist.messaging import service as messaging

log = logging.getLogger("merge_assist.merging.persistence.runner")

# Every history event is a decision the queue took and goes to the audit log; these are about
# one merge request each (the others are about a batch).
MR_EVENTS = frozenset({"recognised", "removed", "struck", "rejected", "merged", "culprit"})
NOTIFIED_EVENTS = frozenset({"merged", "rejected"})
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
MAX_LOG_MESSAGE = 2000


@dataclass(frozen=True)
class LogLine:
    """One line for the queue's log (``logs``) and the process log."""

    level: str
    message: str
    iid: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    iids: tuple[int, ...] = ()  # the MRs of a history entry (process log only)


def history_key(project_id: int, target_branch: str, record_key: str) -> str:
    """The stored key: prefixed with the project and branch (the engine's keys already are)."""
    prefix = f"{project_id}:{target_branch}:"
    return record_key if record_key.startswith(prefix) else prefix + record_key


async def insert_history(
    session: AsyncSession,
    project_id: int,
    target_branch: str,
    records: Sequence[RecordHistory],
    now: datetime,
) -> list[MergeHistoryEntry]:
    """Insert the records whose key is not stored yet; returns the new entries (a replay: [])."""
    keyed = {history_key(project_id, target_branch, r.record_key): r for r in records}
    if not keyed:
        return []
    found = await session.execute(
        select(MergeHistoryEntry.record_key).where(MergeHistoryEntry.record_key.in_(list(keyed)))
    )
    stored = set(found.scalars())
    added = [
        MergeHistoryEntry(
            project_id=project_id,
            target_branch=target_branch,
            event=record.event,
            iids=list(record.iids),
            record_key=key,
            details=dict(record.details),
            created_at=now,
        )
        for key, record in keyed.items()
        if key not in stored
    ]
    session.add_all(added)
    await session.flush()
    return added


async def append_logs(
    session: AsyncSession,
    project_id: int,
    target_branch: str | None,
    lines: Iterable[LogLine],
    now: datetime,
    project_path: str | None = None,
) -> list[QueueLogEntry]:
    """Write ``lines`` to ``logs`` (redacted) and to the process log; returns the new rows.

    The process log's line also names the project and, for a history entry, its event and
    MRs (the console's summary counts them: ``kit.console``)."""
    rows = []
    for line in lines:
        message = redact(line.message)[:MAX_LOG_MESSAGE]
        extra: dict[str, Any] = {
            "project_id": project_id,
            "target_branch": target_branch,
            "iid": line.iid,
        }
        if project_path:
            extra["project"] = project_path
        if "event" in line.details and line.iids:
            extra |= {"event": str(line.details["event"]), "iids": list(line.iids)}
        log.log(_LEVELS.get(line.level, logging.ERROR), message, extra=extra)
        rows.append(
            QueueLogEntry(
                project_id=project_id,
                target_branch=target_branch,
                level=line.level,
                message=message,
                iid=line.iid,
                details=dict(line.details),
                created_at=now,
            )
        )
    session.add_all(rows)
    await session.flush()
    return rows


async def audit_history(session: AsyncSession, entries: Iterable[MergeHistoryEntry]) -> None:
    """One audit entry (actor ``system``) per decision of the queue: recognised, struck,
    removed, rejected, merged, batch started, landed, ended or finished, culprit found."""
    for entry in entries:
        single = entry.event in MR_EVENTS and len(entry.iids) == 1
        await audit.record(
            session,
            actor_id=None,
            actor_name="system",
            action=f"merge_queue.{entry.event}",
            success=True,
            target_type="merge_request" if single else "batch",
            target_id=(
                f"{entry.project_id}!{entry.iids[0]}"
                if single
                else f"{entry.project_id}:{entry.target_branch}"
            ),
            details={
                "project_id": entry.project_id,
                "target_branch": entry.target_branch,
                "iids": list(entry.iids),
                "record_key": entry.record_key,
                **{key: str(value) for key, value in entry.details.items()},
            },
        )


async def notify_authors(
    session: AsyncSession,
    project_ref: str,
    entries: Iterable[MergeHistoryEntry],
    snapshots: Mapping[int, MergeRequestSnapshot],
) -> list[LogLine]:
    """A system message to the author of each MR merged or rejected (when we know who that is
    in Merge Assist). Returns warnings for notices that could not be sent; never raises."""
    problems = []
    for entry in entries:
        if entry.event not in NOTIFIED_EVENTS or not entry.iids:
            continue
        iid = entry.iids[0]
        snapshot = snapshots.get(iid)
        if snapshot is None or snapshot.author_id is None:
            continue
        subject, body = _notice(entry, snapshot)
        try:
            await messaging.send_system_to_gitlab_users(
                session,
                gitlab_user_ids=[snapshot.author_id],
                subject=subject,
                body=body,
                related_mr=(project_ref, iid),
            )
        except MergeAssistError as error:  # a notice must never stop the queue
            problems.append(LogLine("warning", f"no notice sent for !{iid}: {error}", iid))
    return problems


def _one_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _notice(entry: MergeHistoryEntry, snapshot: MergeRequestSnapshot) -> tuple[str, str]:
    title = _one_line(snapshot.title) or f"!{snapshot.iid}"
    name = f"!{snapshot.iid} {title}"
    link = f"\n\n{snapshot.web_url}" if snapshot.web_url else ""
    if entry.event == "merged":
        sha = str(entry.details.get("sha", ""))[:12]
        subject = f"Merged: {name}"
        body = (
            f"Your merge request {name} was merged into {entry.target_branch} by the merge "
            f"queue{f' ({sha})' if sha else ''}.{link}"
        )
    else:
        reasons = str(entry.details.get("reasons", "")).strip()
        subject = f"Rejected: {name}"
        body = (
            f"Your merge request {name} was rejected by the merge queue and the bot was "
            f"unassigned.\n\n{reasons or 'It failed too many times.'}\n\nFix the problems, "
            f"push, and assign the bot again to queue it anew.{link}"
        )
    return subject[:200], body[:5000]
