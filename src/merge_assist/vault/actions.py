"""What changes vault files: upload, check-out, check-in, undo, force unlock, rollback.

Every action is audited (``vault.<action>`` on ``vault_file:<id>``) in the caller's
transaction and announced to open dashboards (``vault.file``) after it commits. Refusals are
sentences: a lock held elsewhere names its holder, a stale base says what to do.

Order of work in a check-in: the holder's lock is read exclusively (PostgreSQL: the row is
locked; SQLite: the writer lock is taken), so a force unlock arriving meanwhile waits; then the
storage write (a commit, compare-and-swapped on the file's version); then the database row moves
to the new version only if it is still at the base (another compare-and-swap). Should the
request fail after the commit, the new version exists in storage but not in the list; ``sync``
records it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.kit.errors import Conflict, Forbidden, MergeAssistError
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.publish import publish_after_commit
from merge_assist.kit.refusals import refusal_details
from merge_assist.messaging import service as messaging
from merge_assist.projects import service as projects
from merge_assist.vault import names, repository, rules
from merge_assist.vault.actors import VaultActor
from merge_assist.vault.locks import LockInfo, LockStore
from merge_assist.vault.models import Vault, VaultFile
from merge_assist.vault.storage import FileVersion, StaleVersion, VaultStorage


@dataclass(frozen=True)
class UploadLimits:
    """What uploads may be: allowed extensions and the largest size in bytes."""

    extensions: frozenset[str]
    max_bytes: int


@dataclass(frozen=True)
class CheckIn:
    """What a holder checks in.

    The new content, its message, the version it was made from (``base_version``) and whether
    the file stays checked out afterwards (``keep_locked``).
    """

    content: bytes
    message: str | None
    base_version: str
    keep_locked: bool


@dataclass(frozen=True)
class CheckInResult:
    """A check-in's outcome: the new version (None when the content was unchanged)."""

    file: VaultFile
    version: FileVersion | None
    released: bool


async def _audit(
    session: AsyncSession,
    actor: VaultActor,
    action: str,
    target: tuple[str, int],
    *,
    success: bool,
    details: dict[str, Any],
) -> None:
    """Append ``vault.<action>`` on ``target`` (type, id) by ``actor`` to the audit log."""
    target_type, target_id = target
    await audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=f"vault.{action}",
        success=success,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )


async def _record(
    session: AsyncSession,
    actor: VaultActor,
    action: str,
    file: VaultFile,
    details: dict[str, Any],
) -> None:
    file_details = {"vault_id": file.vault_id, "path": file.path, **details}
    await _audit(
        session, actor, action, ("vault_file", file.id), success=True, details=file_details
    )


async def record_refusal(
    session: AsyncSession,
    actor: VaultActor,
    action: str,
    *,
    vault_id: int,
    file_id: int | None,
    refusal: MergeAssistError,
) -> None:
    """Audit a refused action (``success`` false) with the sentence the user was given.

    Call it in a transaction of its own: the refused request's transaction is rolled back.
    """
    target = ("vault_file", file_id) if file_id is not None else ("vault", vault_id)
    details = refusal_details(refusal, vault_id=vault_id)
    await _audit(session, actor, action, target, success=False, details=details)


async def _announce(session: AsyncSession, file: VaultFile, action: str) -> None:
    """``vault.file`` after commit: to everyone for a local vault, and for a vault bound to a
    project only to those who see the project (who may read the vault)."""
    data = {
        "action": action,
        "vault_id": file.vault_id,
        "file_id": file.id,
        "version": file.current_version,
    }
    vault = await repository.vault_by_id(session, file.vault_id)
    if vault is None or vault.project_id is None:
        event = LiveEvent.for_everyone("vault.file", **data)
    else:
        project = await projects.get_project(session, vault.project_id)
        event = LiveEvent.for_users("vault.file", await projects.audience(session, project), **data)
    publish_after_commit(session, event)


def _file_values(version: FileVersion, actor: VaultActor) -> dict[str, Any]:
    return {
        "current_version": version.id,
        "size": version.size,
        "content_sha256": version.content_sha256,
        "updated_at": version.date,
        "updated_by": actor.display_name,
    }


async def upload(
    session: AsyncSession,
    vault: Vault,
    storage: VaultStorage,
    actor: VaultActor,
    *,
    name: str,
    content: bytes,
    message: str | None,
    limits: UploadLimits,
) -> VaultFile:
    """Add a new file to the vault as its version 1."""
    path = names.clean_name(name, limits.extensions)
    rules.check_size(len(content), limits.max_bytes)
    text = rules.clean_message(message, f"Add {path}")
    if await repository.file_by_path(session, vault.id, path) is not None:
        raise Conflict(f"{path!r} is already in the vault; check it out to change it.")
    await _refuse_file_folder_clash(session, vault, path)
    await _refuse_case_clash(session, vault, path)
    version = await storage.write(
        path, content, message=text, author=actor.author, base_version=None
    )
    file = VaultFile(vault_id=vault.id, path=path, **_file_values(version, actor))
    try:
        async with session.begin_nested():
            await repository.add(session, file)
    except IntegrityError:
        raise Conflict(f"{path!r} was added to the vault by someone else just now.") from None
    await _record(session, actor, "upload", file, {"version": version.id, "size": version.size})
    await _announce(session, file, "upload")
    return file


async def _refuse_case_clash(session: AsyncSession, vault: Vault, path: str) -> None:
    """Names differing only by case would be one file on Windows and macOS: name the other."""
    existing = [file.path for file in await repository.files_of_vault(session, vault.id)]
    other = names.case_clash(path, existing)
    if other is not None:
        raise Conflict(
            f"{path!r} differs only by case from {other!r}, already in the vault; Windows "
            "and macOS cannot keep both. Check out that file to change it, or choose another "
            "name."
        )


async def _refuse_file_folder_clash(session: AsyncSession, vault: Vault, path: str) -> None:
    """A path cannot be both a file and a folder (``a.nc`` and ``a.nc/b.nc``): say which."""
    parents = ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
    for parent in parents:
        if await repository.file_by_path(session, vault.id, parent) is not None:
            raise Conflict(
                f"{parent!r} is a file in the vault, so it cannot also be a folder; "
                f"choose another name for {path!r}."
            )
    below = await repository.first_path_below(session, vault.id, path)
    if below is not None:
        raise Conflict(
            f"{path!r} is a folder in the vault (it holds {below!r}); choose another name."
        )


async def check_out(
    session: AsyncSession, locks: LockStore, file: VaultFile, actor: VaultActor, reason: str
) -> LockInfo:
    """Take the exclusive lock of ``file`` (409 naming the holder if someone has it)."""
    clean = rules.clean_reason(reason)
    lock = await locks.acquire(file.id, file.path, actor.user_id, clean, file.current_version)
    await _record(session, actor, "checkout", file, {"reason": clean, "version": lock.base_version})
    await _announce(session, file, "checkout")
    return lock


async def _held_by(
    locks: LockStore, file: VaultFile, actor: VaultActor, what: str, *, exclusive: bool = False
) -> LockInfo:
    lock = await locks.current(file.id, exclusive=exclusive)
    if lock is None:
        raise Conflict(f"{file.path!r} is not checked out; check it out first.")
    if lock.holder_id != actor.user_id:
        raise Conflict(f"{lock.sentence(file.path)}. Only the holder can {what}.")
    return lock


async def check_in(
    session: AsyncSession,
    storage: VaultStorage,
    locks: LockStore,
    file: VaultFile,
    actor: VaultActor,
    submitted: CheckIn,
    *,
    limits: UploadLimits,
) -> CheckInResult:
    """Store the holder's new content as a version (unchanged content makes none).

    The lock is read exclusively: a force unlock arriving meanwhile waits for this check-in.
    """
    content, keep_locked = submitted.content, submitted.keep_locked
    lock = await _held_by(locks, file, actor, "check it in", exclusive=True)
    rules.check_size(len(content), limits.max_bytes)
    text = rules.clean_message(submitted.message, f"Update {file.path}")
    base = submitted.base_version.strip().lower()
    if base != file.current_version:
        raise StaleVersion(
            f"{file.path!r} is at version {file.current_version[:12]}, not {base[:12] or '?'}; "
            "download the newest version and apply your change to it."
        )
    version: FileVersion | None = None
    if hashlib.sha256(content).hexdigest() != file.content_sha256:
        version = await storage.write(
            file.path, content, message=text, author=actor.author, base_version=base
        )
        await _move(session, file, base, version, actor)
    if keep_locked:
        await locks.rebase(lock, file.current_version)
    else:
        await locks.release(lock)
    details = {
        "version": version.id if version else None,
        "base_version": base,
        "unchanged": version is None,
        "kept_checked_out": keep_locked,
    }
    await _record(session, actor, "checkin", file, details)
    await _announce(session, file, "checkin")
    return CheckInResult(file, version, released=not keep_locked)


async def _move(
    session: AsyncSession, file: VaultFile, base: str, version: FileVersion, actor: VaultActor
) -> None:
    moved = await repository.move_file_version(
        session, file, expected=base, values=_file_values(version, actor)
    )
    if not moved:
        raise StaleVersion(f"{file.path!r} changed meanwhile; download the newest version.")


async def undo_check_out(
    session: AsyncSession, locks: LockStore, file: VaultFile, actor: VaultActor
) -> LockInfo:
    """Release the caller's own check-out without a new version."""
    lock = await _held_by(locks, file, actor, "undo the check-out")
    if not await locks.release(lock):
        raise _released_meanwhile(file)
    await _record(session, actor, "undo_checkout", file, {"held_since": lock.since.isoformat()})
    await _announce(session, file, "undo_checkout")
    return lock


def _released_meanwhile(file: VaultFile) -> Conflict:
    return Conflict(
        f"The check-out of {file.path!r} ended a moment ago (checked in or given back); "
        "look at the file again."
    )


async def force_unlock(
    session: AsyncSession, locks: LockStore, file: VaultFile, actor: VaultActor, reason: str
) -> LockInfo:
    """An admin releases someone's check-out; the previous holder is told by message."""
    if not actor.is_admin:
        raise Forbidden("Only an administrator can force a check-out open.")
    clean = rules.clean_reason(reason)
    lock = await locks.current(file.id)
    if lock is None:
        raise Conflict(f"{file.path!r} is not checked out; there is nothing to unlock.")
    if not await locks.release(lock):
        raise _released_meanwhile(file)
    if lock.holder_id != actor.user_id and lock.holder_is_local:
        await messaging.send_system(
            session,
            to_user_ids=[lock.holder_id],
            subject=f"Your check-out of {file.path} was released"[:200],
            body=(
                f"{actor.display_name} released your check-out of {file.path} (held since "
                f"{lock.since:%Y-%m-%d %H:%M UTC}, reason: {lock.reason}).\n\n"
                f"Their reason: {clean}\n\nChanges you had not checked in are not in the vault; "
                "check the file out again and bring them in on top of the newest version."
            ),
            related_file=file.path,
        )
    details = {
        "reason": clean,
        "previous_holder": lock.holder_username,
        "held_since": lock.since.isoformat(),
        "held_reason": lock.reason,
    }
    await _record(session, actor, "force_unlock", file, details)
    await _announce(session, file, "force_unlock")
    return lock


async def rollback(
    session: AsyncSession,
    storage: VaultStorage,
    locks: LockStore,
    file: VaultFile,
    actor: VaultActor,
    *,
    version: str,
    message: str | None,
) -> FileVersion:
    """Make a new version equal to ``version`` (history is kept); holder or admin only."""
    lock = await locks.current(file.id, exclusive=True)
    if not actor.is_admin and (lock is None or lock.holder_id != actor.user_id):
        raise Forbidden(
            f"Only the holder of the check-out of {file.path!r} or an administrator can roll it "
            "back; check it out first."
        )
    old = await storage.version(file.path, version)
    if old.content_sha256 == file.content_sha256:
        raise Conflict(f"{file.path!r} already has the content of version {old.id[:12]}.")
    content = await storage.read(file.path, old.id)
    text = rules.clean_message(message, f"Roll {file.path} back to {old.id[:12]}")
    base = file.current_version
    new = await storage.write(
        file.path, content, message=text, author=actor.author, base_version=base
    )
    await _move(session, file, base, new, actor)
    if lock is not None and lock.holder_id == actor.user_id:
        await locks.rebase(lock, new.id)
    await _record(session, actor, "rollback", file, {"to": old.id, "version": new.id})
    await _announce(session, file, "rollback")
    return new
