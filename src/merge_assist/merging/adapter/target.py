"""What one GitLab port works on: the project and target branch, the bot, the branch
prefixes it owns, and how long it waits for GitLab's rebase."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RebaseWait:
    """How long a rebase action waits for GitLab's rebase, and how often it looks."""

    max_seconds: float = 60.0
    poll_seconds: float = 1.0


@dataclass(frozen=True)
class PortTarget:
    """The project and branch one port works on, and how long it waits for GitLab's rebase."""

    project_id: int
    target_branch: str
    bot_id: int
    batch_branch_prefix: str
    rebase_wait: RebaseWait = RebaseWait()
    train_branch_prefix: str = "merge-assist/train"
