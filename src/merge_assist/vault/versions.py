"""Reading versions: history, download (audited) and the diff of two versions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.vault import diffing
from merge_assist.vault.actors import VaultActor
from merge_assist.vault.models import VaultFile
from merge_assist.vault.storage import FileVersion, VaultStorage


async def history(storage: VaultStorage, file: VaultFile) -> list[FileVersion]:
    """The file's versions, newest first."""
    return await storage.history(file.path)


async def download(
    session: AsyncSession,
    storage: VaultStorage,
    file: VaultFile,
    actor: VaultActor,
    version: str | None,
) -> tuple[bytes, str]:
    """The content of ``version`` (newest when None) and its version id; audited."""
    chosen = await storage.version(file.path, version) if version else None
    version_id = chosen.id if chosen is not None else file.current_version
    content = await storage.read(file.path, version_id)
    await audit.record(
        session,
        actor_id=actor.user_id,
        actor_name=actor.username,
        action="vault.download",
        success=True,
        target_type="vault_file",
        target_id=file.id,
        details={"vault_id": file.vault_id, "path": file.path, "version": version_id},
    )
    return content, version_id


def _facts(version: FileVersion) -> diffing.VersionFacts:
    return diffing.VersionFacts(
        version=version.id,
        size=version.size,
        content_sha256=version.content_sha256,
        author=version.author_name,
        date=version.date,
    )


async def diff(
    storage: VaultStorage, file: VaultFile, old_version: str, new_version: str | None
) -> tuple[FileVersion, FileVersion, diffing.VersionDiff]:
    """Compare two versions (``new_version`` None: the newest): text diff or metadata diff."""
    old = await storage.version(file.path, old_version)
    new = await storage.version(file.path, new_version or file.current_version)
    if old.size > diffing.MAX_TEXT_DIFF_BYTES or new.size > diffing.MAX_TEXT_DIFF_BYTES:
        # Too big for a readable text diff: compare metadata without reading the contents.
        changes = diffing.metadata_changes(_facts(old), _facts(new))
        same = old.content_sha256 == new.content_sha256
        return old, new, diffing.VersionDiff("too_large", None, changes, same)
    old_content = await storage.read(file.path, old.id)
    new_content = await storage.read(file.path, new.id)
    return old, new, diffing.compare(file.path, _facts(old), old_content, _facts(new), new_content)
