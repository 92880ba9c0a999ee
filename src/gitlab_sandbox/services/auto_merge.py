"""Auto-merge, GitLab 17.x's "merge when checks pass" (pure rules in ``mergeability``).

``AutoMerge::MergeWhenChecksPassService#process`` (``app/services/auto_merge/
merge_when_checks_pass_service.rb``) runs when something that may unblock the MR happens (its
pipeline succeeds, an approval, a resolved thread, the draft mark removed): it waits while the
head pipeline has not succeeded, does nothing while the MR is not mergeable, and merges as the
user who set it once it is. The MR stays set until then.
"""

from __future__ import annotations

import logging

from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.merging import MergeOptions, MergeRefused, accept
from gitlab_sandbox.store import MergeRequest, Pipeline, Project

log = logging.getLogger("gitlab_sandbox.auto_merge")


async def process_auto_merge(sandbox: Sandbox, project: Project, mr: MergeRequest) -> None:
    """Merge ``mr`` if it is set to auto-merge and every check now passes."""
    if not mr.merge_when_pipeline_succeeds or mr.state != "opened":
        return
    head = sandbox.store.pipeline_for_mr(mr)
    if head is not None and (head.sha != mr.sha or head.status != "success"):
        return  # has_ci_enabled? && !diff_head_pipeline_success?
    user = sandbox.store.users.get(mr.merge_user_id or mr.author_id)
    if user is None:
        return
    params = mr.merge_params
    options = MergeOptions(
        sha=params.get("sha"),  # type: ignore[arg-type]
        squash=params.get("squash"),  # type: ignore[arg-type]
        squash_commit_message=params.get("squash_commit_message"),  # type: ignore[arg-type]
        merge_commit_message=params.get("merge_commit_message"),  # type: ignore[arg-type]
        should_remove_source_branch=params.get("should_remove_source_branch"),  # type: ignore[arg-type]
    )
    try:
        await accept(sandbox, project, mr, user, options)
    except MergeRefused as refused:
        if refused.status_code == 405:
            return  # a check still fails: keep waiting (``return unless mergeable?``)
        mr.merge_when_pipeline_succeeds = False
        mr.merge_error = refused.message
        log.info("auto-merge of !%s failed: %s", mr.iid, refused.message)


async def pipeline_succeeded(sandbox: Sandbox, project: Project, pipeline: Pipeline) -> None:
    """Process the MRs set to auto-merge whose head pipeline just succeeded."""
    for mr in sandbox.store.open_merge_requests(project.id):
        head = sandbox.store.pipeline_for_mr(mr)
        if mr.merge_when_pipeline_succeeds and head is not None and head.id == pipeline.id:
            await process_auto_merge(sandbox, project, mr)
