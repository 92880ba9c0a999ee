"""A GitLab sandbox (real HTTP) with a shared project and its users, one client each.

Each client stands for one standalone instance: its own user, its own token, its own
connection pool — exactly what two machines sharing one project look like to GitLab. The
``conftest.py`` of every folder testing a standalone piece imports the fixtures.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy

PROJECT = "shop/parts"
_names = itertools.count()


def vault_scenario() -> dict[str, Any]:
    """Developers alice and bob, maintainer carol, reporter rita; ``main`` is protected."""
    return {
        "seed": 7,
        "run_pipelines": False,
        "users": [
            {"username": "root", "admin": True},
            {"username": "alice", "name": "Alice Archer"},
            {"username": "bob", "name": "Bob Baker"},
            {"username": "carol", "name": "Carol Chief"},
            {"username": "rita", "name": "Rita Reader"},
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": "root",
                "members": {
                    "alice": "developer",
                    "bob": "developer",
                    "carol": "maintainer",
                    "rita": "reporter",
                },
                "protected_branches": [
                    {
                        "name": "main",
                        "push_access_level": "maintainer",
                        "merge_access_level": "maintainer",
                    }
                ],
                "files": {"parts/gear.mcam": "G-CODE\n", "README.md": "# parts\n"},
            }
        ],
    }


def unique(prefix: str) -> str:
    """A name no other test of the module uses (tests share one sandbox)."""
    return f"{prefix}-{next(_names)}"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(vault_scenario()) as running:
        yield running


async def _client(sandbox: RunningSandbox, username: str) -> GitLabClient:
    return GitLabClient(
        sandbox.url, sandbox.token_for(username), retry=RetryPolicy(max_retries=2, backoff=0.01)
    )


@pytest.fixture
async def alice(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with await _client(sandbox, "alice") as client:
        yield client


@pytest.fixture
async def bob(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with await _client(sandbox, "bob") as client:
        yield client


@pytest.fixture
async def carol(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with await _client(sandbox, "carol") as client:
        yield client
