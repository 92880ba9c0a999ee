"""Git LFS file locks: exclusive, server-arbitrated locks on paths (the vault's check-out).

The lock API lives on the Git host, not under ``/api/v4``:
``<GitLab web root>/<project path>.git/info/lfs/locks``, with the Git LFS media type and HTTP
Basic ``oauth2:<token>`` in the ``Authorization`` header (never in the URL).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from merge_assist.gitlab.calls import Call
from merge_assist.gitlab.core import GitLabCore
from merge_assist.gitlab.errors import GitLabConflict, GitLabLockConflict, GitLabTooManyPages
from merge_assist.gitlab.models import LfsLock, LfsLockVerification

LOCKS = "/{project}.git/info/lfs/locks"


def _ref(ref: str | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {"name": ref if ref.startswith("refs/") else f"refs/heads/{ref}"}


class LfsLocksApi(GitLabCore):
    """List, take, release and verify Git LFS locks of a project (by its full path)."""

    def _lfs_call(
        self,
        method: str,
        project_path: str,
        suffix: str,
        *,
        operation: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        retry_safe: bool = False,
    ) -> Call:
        path = project_path.strip("/")
        if not path or ".." in path.split("/"):
            raise ValueError("An LFS lock call needs the project's full path, like 'group/app'.")
        url = f"{self.web_url}/{quote(path, safe='/')}.git/info/lfs/locks{suffix}"
        return Call(
            method=method,
            url=url,
            endpoint=LOCKS + suffix,
            operation=operation,
            params={k: v for k, v in (params or {}).items() if v is not None} or None,
            json={k: v for k, v in json.items() if v is not None} if json is not None else None,
            auth="lfs",
            retry_safe=retry_safe,
        )

    async def lfs_locks(
        self,
        project_path: str,
        *,
        path: str | None = None,
        lock_id: str | None = None,
        ref: str | None = None,
        max_pages: int | None = None,
    ) -> list[LfsLock]:
        """Current locks, optionally of one path or id (``GET .../locks``), every page."""
        locks: list[LfsLock] = []
        cursor: str | None = None
        for _ in range(max_pages or self.max_pages):
            params = {"path": path, "id": lock_id, "refspec": ref, "cursor": cursor, "limit": 100}
            call = self._lfs_call("GET", project_path, "", operation="lfs.locks", params=params)
            body = await self.json(call) or {}
            locks.extend(LfsLock.model_validate(item) for item in body.get("locks", []))
            cursor = body.get("next_cursor") or None
            if cursor is None:
                return locks
        raise GitLabTooManyPages("Too many pages of LFS locks.", operation="lfs.locks")

    async def lfs_create_lock(
        self, project_path: str, path: str, *, ref: str | None = None
    ) -> LfsLock:
        """Lock ``path`` for the token's user (``POST .../locks``).

        Raises :class:`GitLabLockConflict` carrying the holder's lock when the path is locked
        already — by anyone, the caller included. Never resent: the server arbitrates.
        """
        call = self._lfs_call(
            "POST",
            project_path,
            "",
            operation="lfs.lock",
            json={"path": path, "ref": _ref(ref)},
        )
        try:
            body = await self.json(call)
        except GitLabConflict as exc:
            existing = exc.body.get("lock") if isinstance(exc.body, dict) else None
            holder = LfsLock.model_validate(existing) if existing else None
            owner = holder.owner.name if holder and holder.owner else "another user"
            raise GitLabLockConflict(
                f"{path} is locked already by {owner}.",
                lock=holder,
                status=exc.status,
                operation=exc.operation,
                body=exc.body,
            ) from exc
        return LfsLock.model_validate(body["lock"])

    async def lfs_unlock(
        self, project_path: str, lock_id: str, *, force: bool = False, ref: str | None = None
    ) -> LfsLock:
        """Release a lock (``POST .../locks/:id/unlock``); ``force`` releases another's lock."""
        call = self._lfs_call(
            "POST",
            project_path,
            f"/{quote(lock_id, safe='')}/unlock",
            operation="lfs.unlock",
            json={"force": force, "ref": _ref(ref)},
        )
        call.endpoint = LOCKS + "/{id}/unlock"
        body = await self.json(call)
        return LfsLock.model_validate(body["lock"])

    async def lfs_verify_locks(
        self, project_path: str, *, ref: str | None = None, max_pages: int | None = None
    ) -> LfsLockVerification:
        """Locks split into the caller's and everyone else's (``POST .../locks/verify``)."""
        ours: list[LfsLock] = []
        theirs: list[LfsLock] = []
        cursor: str | None = None
        for _ in range(max_pages or self.max_pages):
            call = self._lfs_call(
                "POST",
                project_path,
                "/verify",
                operation="lfs.verify",
                json={"cursor": cursor, "limit": 100, "ref": _ref(ref)},
                retry_safe=True,  # a read, despite the POST
            )
            body = await self.json(call) or {}
            ours.extend(LfsLock.model_validate(item) for item in body.get("ours", []))
            theirs.extend(LfsLock.model_validate(item) for item in body.get("theirs", []))
            cursor = body.get("next_cursor") or None
            if cursor is None:
                return LfsLockVerification(ours=ours, theirs=theirs)
        raise GitLabTooManyPages("Too many pages of LFS locks.", operation="lfs.verify")
