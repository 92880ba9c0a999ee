"""Real git CLI clones of sandbox projects, and python-gitlab clients."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gitlab
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox


def workflow_scenario(merge_method: str = "merge", **settings: Any) -> dict[str, Any]:
    return {
        "ci": {"duration_seconds": [5, 10], "runner_capacity": 4},
        "users": [{"username": "root", "admin": True}, {"username": "dev"}, {"username": "lead"}],
        "projects": [
            {
                "path": "team/svc",
                "owner": "root",
                "members": {"dev": "developer", "lead": "maintainer"},
                "protected_branches": [
                    {
                        "name": "main",
                        "push_access_level": "maintainer",
                        "merge_access_level": "developer",
                    }
                ],
                "settings": {"merge_method": merge_method, **settings},
                "files": {"README.md": "# svc\n", "app.py": "one\ntwo\nthree\n"},
                "merge_requests": [
                    {
                        "source_branch": "feature",
                        "title": "Add feature",
                        "author": "dev",
                        "files": {"feature.txt": "feature\n"},
                    }
                ],
            }
        ],
    }


class GitClone:
    """A working copy made with the real git CLI, authenticated by an extra header."""

    def __init__(self, sandbox: RunningSandbox, username: str, path: Path) -> None:
        self.sandbox = sandbox
        self.auth = sandbox.git_auth_args(username)
        self.path = path
        self.env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(path.parent),
        }

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *self.auth, "-C", str(self.path), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=check,
        )

    def clone(self, project: str) -> GitClone:
        subprocess.run(
            ["git", *self.auth, "clone", "-q", self.sandbox.clone_url(project), str(self.path)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=True,
        )
        self.git("config", "user.name", "Dev Eloper")
        self.git("config", "user.email", "dev@example.test")
        return self

    def commit_file(self, name: str, content: str, message: str) -> str:
        (self.path / name).write_text(content)
        self.git("add", name)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def rev(self, ref: str) -> str:
        return self.git("rev-parse", ref).stdout.strip()

    def parents(self, ref: str) -> list[str]:
        return self.git("rev-list", "--parents", "-n", "1", ref).stdout.split()[1:]


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes on demand (each stops when the test ends)."""
    stack: list[Any] = []

    def start(scenario: dict[str, Any], **options: Any) -> RunningSandbox:
        manager = run_sandbox(scenario, clock_speed=options.pop("clock_speed", 20), **options)
        stack.append(manager)
        return manager.__enter__()

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture
def clone(tmp_path: Path) -> Callable[[RunningSandbox, str, str], GitClone]:
    counter = iter(range(1000))

    def make(sandbox: RunningSandbox, username: str, project: str) -> GitClone:
        return GitClone(sandbox, username, tmp_path / f"clone-{next(counter)}").clone(project)

    return make


def api(sandbox: RunningSandbox, username: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for(username))
