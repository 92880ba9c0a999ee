"""Fixtures for the git layer: a fresh bare repository and a git smart HTTP server in a thread."""

from __future__ import annotations

import asyncio
import hmac
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from gitlab_sandbox.git import BareRepo, Identity
from gitlab_sandbox.git.services import PushEnvironment
from gitlab_sandbox.git.smart_http import GitTarget, RefUpdate, build_git_router

ANN = Identity("Ann Author", "ann@example.com", datetime(2024, 5, 1, 9, 0, tzinfo=UTC))
BOB = Identity("Bob Builder", "bob@example.com", datetime(2024, 5, 2, 10, 30, tzinfo=UTC))
TOKEN = "glpat-test-token-123"
MERGER = Identity("Merge Bot", "bot@example.com", datetime(2024, 5, 3, 12, 0, tzinfo=UTC))


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[BareRepo]:
    """An empty bare repository whose default branch is ``main``."""
    bare = BareRepo.init(tmp_path / "group" / "project.git")
    yield bare
    bare.close()


@dataclass
class TokenUser:
    username: str


@dataclass
class FakeAccess:
    """A ``GitAccess`` with one user and token over one repository (``group/project``)."""

    target: GitTarget
    token: str = TOKEN
    username: str = "ann"
    public: bool = False
    refuse_refs: dict[str, str] = field(default_factory=dict)
    pushes: list[list[RefUpdate]] = field(default_factory=list)
    push_options: list[list[str]] = field(default_factory=list)

    def repo_for(self, namespace_path: str) -> GitTarget | None:
        return self.target if namespace_path == "group/project" else None

    def authenticate(self, username: str, password: str) -> TokenUser | None:
        if username in ("oauth2", self.username) and hmac.compare_digest(password, self.token):
            return TokenUser(self.username)
        return None

    def can_read(self, principal: TokenUser | None, target: GitTarget) -> bool:
        return principal is not None or self.public

    def check_push(
        self, principal: TokenUser, target: GitTarget, updates: list[RefUpdate]
    ) -> str | None:
        for update in updates:
            if update.ref in self.refuse_refs:
                return self.refuse_refs[update.ref]
        return None

    def push_environment(self, principal: TokenUser, target: GitTarget) -> PushEnvironment:
        return PushEnvironment()

    async def after_push(
        self,
        principal: TokenUser,
        target: GitTarget,
        updates: list[RefUpdate],
        push_options: list[str],
    ) -> None:
        self.pushes.append(updates)
        self.push_options.append(push_options)


class ServerThread:
    """A uvicorn server for ``app`` on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not (self.server.started and self.server.servers):
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def git_access(repo: BareRepo) -> FakeAccess:
    lock = asyncio.Lock()
    return FakeAccess(
        GitTarget(repo=repo, project_id=1, full_path="group/project", write_lock=lock)
    )


@pytest.fixture
def git_server(git_access: FakeAccess) -> Iterator[str]:
    """Base URL of a server exposing ``group/project.git`` through ``build_git_router``."""
    app = FastAPI()
    app.include_router(build_git_router(git_access))
    with ServerThread(app) as base_url:
        yield base_url


@pytest.fixture
def git_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real git client with a clean configuration (no prompts, no system config)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Cli User",
        "GIT_AUTHOR_EMAIL": "cli@example.com",
        "GIT_COMMITTER_NAME": "Cli User",
        "GIT_COMMITTER_EMAIL": "cli@example.com",
        "LC_ALL": "C",
    }

    def run(
        *args: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            ["git", *args], cwd=cwd or tmp_path, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        if check and completed.returncode != 0:
            raise AssertionError(f"git {args} failed:\n{completed.stdout}\n{completed.stderr}")
        return completed

    return run
