"""A GitLab sandbox served over real HTTP, and settings pointing the product at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.kit.settings import Settings
from tests.sandbox_product import sandbox_settings

PUBLIC_URL = "http://merge-assist.example:8080"

SCENARIO: dict[str, Any] = {
    "users": [
        {"username": "root", "admin": True, "tokens": [{"name": "admin", "scopes": ["api"]}]},
        {"username": "marge-bot", "bot": True, "tokens": [{"name": "bot", "scopes": ["api"]}]},
        {"username": "alice"},
    ],
    "projects": [
        {
            "path": "acme/webapp",
            "owner": "root",
            "default_branch": "main",
            "members": {"marge-bot": "maintainer", "alice": "developer"},
            "files": {"README.md": "# webapp\n"},
        },
        {
            "path": "acme/tools",
            "owner": "root",
            "default_branch": "develop",
            "members": {"marge-bot": "maintainer"},
            "files": {"README.md": "# tools\n"},
        },
        {
            "path": "acme/docs",
            "owner": "root",
            "members": {"marge-bot": "developer"},
            "files": {"README.md": "# docs\n"},
        },
        {
            "path": "hidden/secret-project",
            "owner": "root",
            "visibility": "private",
            "files": {"README.md": "# secret\n"},
        },
    ],
}


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO, seed=0) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Test settings for a product whose GitLab is the sandbox and whose bot is marge-bot."""
    return sandbox_settings(database_url, tmp_path, sandbox, monkeypatch, public_url=PUBLIC_URL)


def sandbox_hooks(sandbox: RunningSandbox, path: str) -> list[Any]:
    """The hooks the sandbox holds for the project at ``path`` (tokens included)."""
    project = sandbox.sandbox.store.project_by_ref(path)
    assert project is not None
    return list(project.hooks)
