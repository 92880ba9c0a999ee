"""The green-main record: every new tip of a protected branch and whether its tree passed CI."""

from __future__ import annotations

from gitlab_sandbox.git.objects import GitError
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import Pipeline, Project


def record_tip(
    sandbox: Sandbox, project: Project, branch: str, sha: str, tree_id: str, how: str
) -> None:
    """Remember a new tip of a protected branch (checked against CI results later)."""
    sandbox.green_main.record_tip(project.path_with_namespace, branch, sha, tree_id, how=how)


def record_result(sandbox: Sandbox, project: Project, pipeline: Pipeline) -> None:
    """Remember whether the tree a finished pipeline tested passed (cancels say nothing)."""
    if pipeline.status not in ("success", "failed"):
        return
    try:
        tree_id = sandbox.repo(project).tree_id(pipeline.sha)
    except GitError:
        return
    sandbox.green_main.mark_tree_result(tree_id, pipeline.status == "success")
