"""An async wrapper around the git command line, for the batch flow and the vault.

Every git process runs in a clean environment (see :mod:`merge_assist.gitlab.git_runner`):
only ``PATH`` inherited, a private ``HOME``, no system config, a global config written by us
without any credential helper, and no terminal prompts. The bot's token reaches git only through
``GIT_ASKPASS`` reading a variable of that one child process: never an argument, a URL,
``.git/config`` or a log line. Remote URLs with credentials are refused.

    git = GitCli(data_dir / "git-home", token=bot_token)
    repo = await git.clone("https://gitlab.example.com/group/app.git", workdir, branch="main")
    outcome = await repo.merge("origin/feature", "Merge !12")
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from merge_assist.gitlab.git_repository import GitRepository, MergeOutcome, RebaseOutcome
from merge_assist.gitlab.git_runner import (
    GitCommandError,
    GitPushRejected,
    GitResult,
    GitRunner,
    GitTimeout,
)

__all__ = [
    "GitCli",
    "GitCommandError",
    "GitPushRejected",
    "GitRepository",
    "GitResult",
    "GitTimeout",
    "MergeOutcome",
    "RebaseOutcome",
    "check_remote_url",
]


def check_remote_url(url: str) -> str:
    """Refuse remote URLs that carry credentials; the token goes through GIT_ASKPASS only."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and (parts.username or parts.password):
        raise ValueError(
            "Remote URLs must not carry credentials; the token is supplied through GIT_ASKPASS."
        )
    return url


class GitCli(GitRunner):
    """Creates and clones repositories; each :class:`GitRepository` runs through this CLI."""

    def open(self, path: Path) -> GitRepository:
        """A repository already on disk."""
        return GitRepository(path, self)

    async def init(
        self, path: Path, *, bare: bool = False, initial_branch: str = "main"
    ) -> GitRepository:
        """Create a repository (``git init``)."""
        args = ["init", "--quiet", f"--initial-branch={initial_branch}"]
        if bare:
            args.append("--bare")
        await self.run(*args, str(path))
        return self.open(path)

    async def clone(
        self,
        url: str,
        dest: Path,
        *,
        branch: str | None = None,
        depth: int | None = None,
        bare: bool = False,
    ) -> GitRepository:
        """Clone ``url`` (without credentials in it) into ``dest``."""
        check_remote_url(url)
        args = ["clone", "--quiet", "--no-tags"]
        if branch:
            args += ["--branch", branch]
        if depth:
            args += ["--depth", str(depth)]
        if bare:
            args.append("--bare")
        await self.run(*args, "--", url, str(dest))
        return self.open(dest)
