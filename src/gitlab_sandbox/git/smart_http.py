"""Git smart HTTP (clone, fetch, push) for the sandbox's bare repositories, as GitLab serves it.

``build_git_router(access)`` returns the routes ``/{path}.git/info/refs``,
``/{path}.git/git-upload-pack`` and ``/{path}.git/git-receive-pack``. Authentication is HTTP
basic with ``oauth2:<token>`` or ``<username>:<token>``; anonymous reads only where
``access.can_read(None, target)``; without credentials the answer is 401 before anything is
said about the project (as GitLab does for private projects). Pushes are checked with
``access.check_push`` *before* git sees the pack, and a refusal reaches the user the way
GitLab's does (``remote: GitLab: <reason>`` and ``! [remote rejected] ... (pre-receive hook
declined)``). After a push, ``access.after_push`` receives the ref updates that happened.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Generic, Protocol, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from gitlab_sandbox.git.objects import ZERO_SHA
from gitlab_sandbox.git.pktline import PktLineError, parse_push_commands, refusal_report
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.git.services import (
    SERVICES,
    BadRequestBody,
    PushEnvironment,
    Service,
    advertisement,
    run_service,
    spool_body,
)

__all__ = ["GitAccess", "GitTarget", "RefUpdate", "build_git_router"]

logger = logging.getLogger(__name__)

PrincipalT = TypeVar("PrincipalT")
_NOT_FOUND = (
    "The project you were looking for could not be found or you don't have permission to view it."
)
_NO_CACHE = {"Cache-Control": "no-cache, max-age=0, must-revalidate", "Expires": "0"}


@dataclass(frozen=True)
class RefUpdate:
    """One ref a push changed; ``old`` is zeros for a creation, ``new`` zeros for a deletion."""

    ref: str
    old: str
    new: str


@dataclass(frozen=True, eq=False)
class GitTarget:
    """A project's repository as git HTTP sees it. ``write_lock``, when given, is held while
    receive-pack runs so pushes and API writes on the same repository do not interleave."""

    repo: BareRepo
    project_id: int
    full_path: str = ""
    write_lock: asyncio.Lock | None = None


class GitAccess(Protocol[PrincipalT]):
    """What the router asks the rest of the sandbox (projects, tokens, permissions, events)."""

    def repo_for(self, namespace_path: str) -> GitTarget | None: ...

    def authenticate(self, username: str, password: str) -> PrincipalT | None: ...

    def can_read(self, principal: PrincipalT | None, target: GitTarget) -> bool: ...

    def check_push(
        self, principal: PrincipalT, target: GitTarget, updates: list[RefUpdate]
    ) -> str | None: ...

    def push_environment(self, principal: PrincipalT, target: GitTarget) -> PushEnvironment:
        """The configuration and environment receive-pack runs with for this push (its
        pre-receive hook's checks)."""
        ...

    async def after_push(
        self,
        principal: PrincipalT,
        target: GitTarget,
        updates: list[RefUpdate],
        push_options: list[str],
    ) -> None: ...


class _Denied(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _unauthorized() -> _Denied:
    return _Denied(
        Response(
            "HTTP Basic: Access denied\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Basic realm="GitLab"'},
        )
    )


def _plain(status: int, text: str) -> _Denied:
    return _Denied(Response(text + "\n", status_code=status, media_type="text/plain"))


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")  # malformed credentials count as wrong ones
    username, _, password = decoded.partition(":")
    return username, password


class _GitEndpoints(Generic[PrincipalT]):
    """The three endpoints, bound to one ``GitAccess``."""

    def __init__(self, access: GitAccess[PrincipalT]) -> None:
        self.access = access

    def authorize(
        self, request: Request, path: str, service: Service
    ) -> tuple[PrincipalT | None, GitTarget]:
        """The caller and the repository, or ``_Denied`` with GitLab's answer."""
        principal: PrincipalT | None = None
        credentials = _credentials(request)
        if credentials is not None:
            principal = self.access.authenticate(*credentials)
            if principal is None:
                raise _unauthorized()
        target = self.access.repo_for(path)
        if principal is None:
            anonymous_read = (
                service == "git-upload-pack"
                and target is not None
                and self.access.can_read(None, target)
            )
            if not anonymous_read:
                raise _unauthorized()
        if target is None or not self.access.can_read(principal, target):
            raise _plain(404, _NOT_FOUND)
        if not target.repo.path.is_dir():
            raise _plain(404, _NOT_FOUND)  # a project whose repository was never created
        return principal, target

    async def info_refs(self, path: str, request: Request) -> Response:
        service = request.query_params.get("service", "")
        if service not in SERVICES:
            return Response(
                "Only the smart HTTP protocol is supported.\n", 403, media_type="text/plain"
            )
        try:
            _, target = self.authorize(request, path, service)
        except _Denied as denied:
            return denied.response
        body = await advertisement(target.repo, service, request)
        return Response(
            body, media_type=f"application/x-{service}-advertisement", headers=_NO_CACHE
        )

    async def upload_pack(self, path: str, request: Request) -> Response:
        try:
            _, target = self.authorize(request, path, "git-upload-pack")
            body = await _spooled(request)
        except _Denied as denied:
            return denied.response
        return StreamingResponse(
            run_service(target.repo, "git-upload-pack", request, body),
            media_type="application/x-git-upload-pack-result",
            headers=_NO_CACHE,
        )

    async def receive_pack(self, path: str, request: Request) -> Response:
        try:
            principal, target = self.authorize(request, path, "git-receive-pack")
            body = await _spooled(request)
        except _Denied as denied:
            return denied.response
        assert principal is not None  # authorize refuses anonymous pushes
        try:
            push = parse_push_commands(body)
        except PktLineError as error:
            body.close()
            return Response(f"Bad push request: {error}.\n", 400, media_type="text/plain")
        body.seek(0)
        requested = [RefUpdate(ref=ref, old=old, new=new) for old, new, ref in push.commands]
        refusal = self.access.check_push(principal, target, requested) if requested else None
        if refusal is not None:
            body.close()
            return _result(refusal_report(push, refusal))
        lock = target.write_lock or contextlib.nullcontext()
        async with lock:
            push_env = self.access.push_environment(principal, target)
            output = await _collect(
                run_service(target.repo, "git-receive-pack", request, body, push_env)
            )
            applied = await asyncio.to_thread(_applied_updates, target.repo, requested)
        if applied:
            try:
                await self.access.after_push(principal, target, applied, push.options)
            except Exception:  # the push happened; a failing follower must not undo its report
                logger.exception("after_push failed for %s", target.full_path or path)
        return _result(output)


def _result(body: bytes) -> Response:
    return Response(body, media_type="application/x-git-receive-pack-result", headers=_NO_CACHE)


async def _spooled(request: Request) -> IO[bytes]:
    try:
        return await spool_body(request)
    except BadRequestBody as error:
        raise _plain(400, str(error)) from error


def _applied_updates(repo: BareRepo, requested: list[RefUpdate]) -> list[RefUpdate]:
    """The requested updates that took effect (receive-pack checks each ref's old value)."""
    applied = []
    for update in requested:
        if update.old == update.new:
            continue
        info = repo.reader.info(update.ref) if update.ref.startswith("refs/") else None
        current = info[0] if info is not None else ZERO_SHA
        if current == update.new:
            applied.append(update)
    return applied


def build_git_router(access: GitAccess[PrincipalT]) -> APIRouter:
    """The git smart HTTP routes, to mount at the root of the sandbox's app."""
    endpoints = _GitEndpoints(access)
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/{path:path}.git/info/refs", endpoints.info_refs, methods=["GET"])
    router.add_api_route(
        "/{path:path}.git/git-upload-pack", endpoints.upload_pack, methods=["POST"]
    )
    router.add_api_route(
        "/{path:path}.git/git-receive-pack", endpoints.receive_pack, methods=["POST"]
    )
    return router


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])
