"""A scripted HTTP server for the client's transport behaviour (real HTTP over loopback).

Each test lists the requests it expects, in order, with the replies to send. The server fails
closed: a request that is not the next expected one is answered 418 and recorded, and the test
fails at teardown; so does an expectation left unused. Full GitLab behaviour is tested against
the GitLab sandbox, not here.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy

TOKEN = "glpat-transporttest0123456789"


@dataclass
class Expected:
    method: str
    path: str
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    media_type: str = "application/json"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class ScriptedGitLab:
    """The ASGI app: answers the scripted requests in order, refuses anything else."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.expected: deque[Expected] = deque()
        self.received: list[Received] = []
        self.unexpected: list[str] = []
        self.url = ""

    def expect(self, method: str, path: str, **reply: Any) -> None:
        """Expect ``method path`` next (path as sent, percent-encoded) and answer ``reply``."""
        with self._lock:
            self.expected.append(Expected(method, path, **reply))

    def reset(self) -> None:
        with self._lock:
            self.expected.clear()
            self.received.clear()
            self.unexpected.clear()

    def _take(self, received: Received) -> Expected | None:
        with self._lock:
            self.received.append(received)
            nxt = self.expected[0] if self.expected else None
            if nxt is None or (nxt.method, nxt.path) != (received.method, received.path):
                self.unexpected.append(f"{received.method} {received.path}")
                return None
            return self.expected.popleft()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        received = Received(
            method=request.method,
            path=scope["raw_path"].decode("ascii"),
            query=dict(parse_qsl(scope["query_string"].decode("ascii"), keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        reply = self._take(received)
        if reply is None:
            response = Response(b'{"message":"unexpected request"}', status_code=418)
        else:
            if reply.delay:
                await asyncio.sleep(reply.delay)
            content = reply.body if reply.body is not None else jsonlib.dumps(reply.json).encode()
            if reply.json is None and reply.body is None:
                content = b""
            response = Response(
                content,
                status_code=reply.status,
                headers=reply.headers,
                media_type=reply.media_type,
            )
        await response(scope, receive, send)


@pytest.fixture(scope="session")
def gitlab_server() -> Iterator[ScriptedGitLab]:
    app = ScriptedGitLab()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="critical",
        access_log=False,
        ws="none",
        http="h11",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the scripted GitLab server did not start")
        time.sleep(0.01)
    yield app
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def scripted(gitlab_server: ScriptedGitLab) -> Iterator[ScriptedGitLab]:
    """The server with an empty script; fails the test on unexpected or unused requests."""
    gitlab_server.reset()
    yield gitlab_server
    unexpected = list(gitlab_server.unexpected)
    unused = [f"{e.method} {e.path}" for e in gitlab_server.expected]
    gitlab_server.reset()
    assert not unexpected, f"unexpected requests: {unexpected}"
    assert not unused, f"expected requests never sent: {unused}"


class SleepRecorder:
    """Really sleeps, and remembers how long the client asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def gitlab(scripted: ScriptedGitLab, sleeps: SleepRecorder) -> AsyncIterator[GitLabClient]:
    client = GitLabClient(
        scripted.url,
        TOKEN,
        timeout=httpx.Timeout(5.0),
        retry=RetryPolicy(max_retries=3, backoff=0.01, max_retry_after=5),
        sleep=sleeps,
    )
    async with client:
        yield client


# -- a GitLab sandbox per test module (tests/gitlab/test_*_against_sandbox.py) ----------------

PROJECT = "acme/webapp"
MANY_MRS = 105  # more than one page of 100
FAIL_MARKER = "sandbox-ci: fail"


def sandbox_scenario(many_mrs: int = MANY_MRS) -> dict[str, Any]:
    """Users, tokens, a project with branches and MRs, CI rules; ``acme/many`` for paging."""
    many = [
        {
            "source_branch": f"many-{n:03d}",
            "title": f"Many {n}",
            "author": "alice",
            "files": {f"many/{n:03d}.txt": f"{n}\n"},
        }
        for n in range(many_mrs)
    ]
    return {
        "seed": 3,
        "clock_speed": 60,
        "run_pipelines": False,
        "ci": {
            "duration_seconds": [5, 10],
            "runner_capacity": 8,
            "flake_rate": 0.0,
            "fail_marker": FAIL_MARKER,
        },
        "users": [
            {"username": "root", "admin": True},
            {
                "username": "marge-bot",
                "name": "Marge Bot",
                "bot": True,
                "tokens": [{"name": "bot", "scopes": ["api"], "expires_at": "2031-01-01"}],
            },
            {"username": "alice", "name": "Alice"},
            {"username": "viewer", "tokens": [{"name": "read", "scopes": ["read_api"]}]},
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": "root",
                "members": {"marge-bot": "maintainer", "alice": "developer", "viewer": "reporter"},
                "labels": ["bug", "ready"],
                "files": {"README.md": "# webapp\n", "src/app.py": "print('hello')\n"},
                "branches": {"topic": {"files": {"src/topic.py": "x = 1\n"}}},
                "merge_requests": [
                    {
                        "source_branch": "feature-a",
                        "title": "Add feature A",
                        "author": "alice",
                        "assignees": ["marge-bot"],
                        "reviewers": ["alice"],
                        "labels": ["ready"],
                        "files": {"src/a.py": "a = 1\n"},
                    },
                    {
                        "source_branch": "feature-b",
                        "title": "Add feature B",
                        "author": "alice",
                        "reviewers": ["marge-bot"],
                        "files": {"src/b.py": "b = 1\n"},
                    },
                    {
                        "source_branch": "feature-draft",
                        "title": "Unfinished",
                        "author": "alice",
                        "draft": True,
                        "files": {"src/d.py": "d = 1\n"},
                    },
                    {
                        "source_branch": "feature-clash",
                        "title": "Clashes with main",
                        "author": "alice",
                        "files": {"README.md": "# clash\n"},
                    },
                    {
                        "source_branch": "feature-rebase",
                        "title": "Needs a rebase",
                        "author": "alice",
                        "files": {"src/r.py": "r = 1\n"},
                    },
                ],
            },
            {
                "path": "acme/many",
                "owner": "root",
                "members": {"marge-bot": "maintainer", "alice": "developer"},
                "files": {"README.md": "# many\n"},
                "merge_requests": many,
            },
        ],
    }


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    """The scenario of the module's sandbox; a module may override it."""
    return sandbox_scenario()


@pytest.fixture(scope="module")
def sandbox(scenario: dict[str, Any]) -> Iterator[RunningSandbox]:
    with run_sandbox(scenario) as running:
        yield running


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("marge-bot"), retry=RetryPolicy(max_retries=2, backoff=0.01)
    ) as client:
        yield client


@pytest.fixture
async def alice(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("alice"), retry=RetryPolicy(max_retries=0)
    ) as client:
        yield client
