"""A sandbox served over real HTTP, and python-gitlab clients for its users."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import gitlab
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox

BASE_SCENARIO: dict[str, Any] = {
    "ci": {"duration_seconds": [5, 10], "runner_capacity": 4},
    "users": [
        {"username": "root", "admin": True},
        {"username": "alice"},
        {"username": "bob"},
        {"username": "reader", "tokens": [{"name": "ro", "scopes": ["read_api"]}]},
        {
            "username": "expired",
            "tokens": [{"name": "old", "scopes": ["api"], "expires_at": "2001-01-01"}],
        },
        {"username": "outsider"},
    ],
    "projects": [
        {
            "path": "acme/app",
            "owner": "root",
            "members": {
                "alice": "developer",
                "bob": "maintainer",
                "reader": "reporter",
                "expired": "developer",
            },
            "protected_branches": [
                {
                    "name": "main",
                    "push_access_level": "maintainer",
                    "merge_access_level": "developer",
                }
            ],
            "labels": ["bug", "feature"],
            "files": {"README.md": "# app\n", "src/app.py": "print('hello')\n"},
            "merge_requests": [
                {
                    "source_branch": "feature-a",
                    "title": "Add feature A",
                    "author": "alice",
                    "assignees": ["bob"],
                    "reviewers": ["bob"],
                    "labels": ["feature"],
                    "files": {"a.txt": "A\n"},
                },
                {
                    "source_branch": "fix-b",
                    "title": "Draft: Fix B",
                    "author": "bob",
                    "labels": ["bug"],
                    "files": {"b.txt": "B\n"},
                },
            ],
        }
    ],
}


def scenario(**changes: Any) -> dict[str, Any]:
    """A copy of the base scenario with top-level keys replaced. Synchronous (GitLab's
    asynchrony off): these tests pin the API's fields and rules right after each call;
    ``workflows/test_asynchrony.py`` covers the default, asynchronous behaviour."""
    data = copy.deepcopy(BASE_SCENARIO)
    data["asynchronous"] = False
    data.update(changes)
    return data


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(scenario(), clock_speed=20) as running:
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> Callable[[str], gitlab.Gitlab]:
    """python-gitlab, unmodified, authenticated as a scenario user."""

    def make(username: str) -> gitlab.Gitlab:
        return gitlab.Gitlab(
            sandbox.url, private_token=sandbox.token_for(username), retry_transient_errors=False
        )

    return make
