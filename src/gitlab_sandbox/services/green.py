"""The green-main record: every new tip of a protected branch and whether its tree passed CI."""

from __future__ import annotations

from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import Pipeline, Project


def record_tip(sandbox: Sandbox, project: Project, branch: str, sha: str, tree_id: str) -> None:
    """Remember a new tip of a protected branch (checked against CI results later)."""
    del sandbox, project, branch, sha, tree_id


def record_result(sandbox: Sandbox, project: Project, pipeline: Pipeline) -> None:
    """Remember whether the tree a finished pipeline tested passed."""
    del project, pipeline, sandbox
