"""``git upload-pack`` / ``git receive-pack`` in stateless-rpc mode as asyncio subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Literal

from starlette.requests import Request

from gitlab_sandbox.git.pktline import FLUSH, pkt_line
from gitlab_sandbox.git.process import git_env
from gitlab_sandbox.git.repo import BareRepo

Service = Literal["git-upload-pack", "git-receive-pack"]
SERVICES: tuple[Service, ...] = ("git-upload-pack", "git-receive-pack")
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_CHUNK = 64 * 1024
_GIT_PROTOCOL = re.compile(r"^[A-Za-z0-9=:._-]{1,100}$")


class BadRequestBody(ValueError):
    """The request body cannot be decoded (bad gzip)."""


@dataclass(frozen=True)
class PushEnvironment:
    """What a receive-pack of one push runs with beyond the defaults: git configuration (e.g.
    ``core.hooksPath``) and environment variables its hooks read (e.g. ``GL_USERNAME``)."""

    config: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


def service_env(
    repo: BareRepo, request: Request, push: PushEnvironment | None = None
) -> dict[str, str]:
    """The environment for a service: the clean git environment plus the client's protocol
    version (``Git-Protocol: version=2`` lets upload-pack speak protocol v2)."""
    extra: dict[str, str] = dict(push.env) if push is not None else {}
    protocol = request.headers.get("git-protocol", "")
    if _GIT_PROTOCOL.match(protocol):
        extra["GIT_PROTOCOL"] = protocol
    # GitLab accepts push options (``git push -o ci.skip``): receive-pack must announce them.
    config = {"receive.advertisePushOptions": "true", **(push.config if push else {})}
    extra["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config.items()):
        extra[f"GIT_CONFIG_KEY_{index}"], extra[f"GIT_CONFIG_VALUE_{index}"] = key, value
    return git_env(repo.path, extra)


def wants_protocol_v2(request: Request) -> bool:
    return "version=2" in request.headers.get("git-protocol", "").split(":")


async def advertisement(repo: BareRepo, service: Service, request: Request) -> bytes:
    """The body of ``GET info/refs?service=...``: header packet, flush, then git's refs."""
    process = await asyncio.create_subprocess_exec(
        "git", service.removeprefix("git-"), "--stateless-rpc", "--advertise-refs", str(repo.path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=service_env(repo, request),
        cwd=repo.path,
    )  # fmt: skip
    refs, _ = await process.communicate()
    if service == "git-upload-pack" and wants_protocol_v2(request):
        return refs  # protocol v2 capability advertisement has no service header
    return pkt_line(f"# service={service}\n".encode()) + FLUSH + refs


async def spool_body(request: Request) -> IO[bytes]:
    """The whole request body (gunzipped when sent with ``Content-Encoding: gzip``), in a
    temporary file positioned at its start."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    encoding = request.headers.get("content-encoding", "").strip().lower()
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    try:
        async for chunk in request.stream():
            spool.write(decoder.decompress(chunk) if decoder else chunk)
        if decoder is not None:
            spool.write(decoder.flush())
    except zlib.error as error:
        spool.close()
        raise BadRequestBody("The request body is not valid gzip data.") from error
    spool.seek(0)
    return spool


async def run_service(
    repo: BareRepo,
    service: Service,
    request: Request,
    body: IO[bytes],
    push: PushEnvironment | None = None,
) -> AsyncIterator[bytes]:
    """Run the service with ``body`` on its stdin and yield its stdout as it comes."""
    process = await asyncio.create_subprocess_exec(
        "git", service.removeprefix("git-"), "--stateless-rpc", str(repo.path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=service_env(repo, request, push),
        cwd=repo.path,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    feeder = asyncio.create_task(_feed(process.stdin, body))
    try:
        while chunk := await process.stdout.read(_CHUNK):
            yield chunk
        await feeder
        await process.wait()
    finally:
        feeder.cancel()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        body.close()


async def _feed(stdin: asyncio.StreamWriter, body: IO[bytes]) -> None:
    try:
        while chunk := body.read(_CHUNK):
            stdin.write(chunk)
            await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # git stopped reading (it answered an error); its output says why
    finally:
        stdin.close()
