"""GitLab's JSON shapes for merge requests, notes, discussions, approvals and pipelines."""

from __future__ import annotations

from gitlab_sandbox.api.render import JSON, iso, user_basic, user_by_id
from gitlab_sandbox.ci import CiJob
from gitlab_sandbox.ci.pipeline import DETAILED_STATUS
from gitlab_sandbox.mergeability import detailed_merge_status, merge_status
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.merge_requests import (
    approvals_left,
    discussions_resolved,
    merge_facts,
)
from gitlab_sandbox.services.permissions import can_merge
from gitlab_sandbox.store import Discussion, MergeRequest, Note, Pipeline, Project, User


def merge_request(
    sandbox: Sandbox,
    project: Project,
    mr: MergeRequest,
    viewer: User | None = None,
    *,
    detailed: bool = True,
) -> JSON:
    """An MR as ``GET /projects/:id/merge_requests/:iid`` returns it (call
    ``refresh_facts`` first so mergeability is current)."""
    base = sandbox.base_url
    facts = merge_facts(sandbox, project, mr)
    assignees = [user_by_id(sandbox, uid) for uid in mr.assignee_ids]
    full_ref = f"{project.path_with_namespace}!{mr.iid}"
    data: JSON = {
        "id": mr.id,
        "iid": mr.iid,
        "project_id": mr.project_id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "created_at": iso(mr.created_at),
        "updated_at": iso(mr.updated_at),
        "merged_by": user_by_id(sandbox, mr.merged_by_id),
        "merge_user": user_by_id(sandbox, mr.merge_user_id),
        "merged_at": iso(mr.merged_at),
        "merge_after": None,
        "prepared_at": iso(mr.created_at),
        "closed_by": user_by_id(sandbox, mr.closed_by_id),
        "closed_at": iso(mr.closed_at),
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "user_notes_count": sum(1 for n in mr.all_notes() if not n.system),
        "upvotes": 0,
        "downvotes": 0,
        "author": user_by_id(sandbox, mr.author_id),
        "assignees": assignees,
        "assignee": assignees[0] if assignees else None,
        "reviewers": [user_by_id(sandbox, uid) for uid in mr.reviewer_ids],
        "source_project_id": mr.source_project_id,
        "target_project_id": mr.target_project_id,
        "labels": list(mr.labels),
        "draft": mr.draft,
        "work_in_progress": mr.draft,
        "imported": False,
        "imported_from": "none",
        "milestone": None,
        "merge_when_pipeline_succeeds": mr.merge_when_pipeline_succeeds,
        "merge_status": merge_status(facts),
        "detailed_merge_status": detailed_merge_status(facts),
        "sha": mr.sha,
        "merge_commit_sha": mr.merge_commit_sha,
        "squash_commit_sha": mr.squash_commit_sha,
        "discussion_locked": None,
        "should_remove_source_branch": mr.should_remove_source_branch,
        "force_remove_source_branch": mr.force_remove_source_branch,
        "prepared": True,
        "reference": f"!{mr.iid}",
        "references": {"short": f"!{mr.iid}", "relative": f"!{mr.iid}", "full": full_ref},
        "web_url": f"{base}/{project.path_with_namespace}/-/merge_requests/{mr.iid}",
        "time_stats": {
            "time_estimate": 0,
            "total_time_spent": 0,
            "human_time_estimate": None,
            "human_total_time_spent": None,
        },
        "squash": mr.squash,
        "squash_on_merge": mr.squash,
        "task_completion_status": {"count": 0, "completed_count": 0},
        "has_conflicts": facts.has_conflicts,
        "blocking_discussions_resolved": discussions_resolved(mr)
        or not project.settings.only_allow_merge_if_all_discussions_are_resolved,
        "approvals_before_merge": project.settings.approvals_before_merge or None,
    }
    if detailed:
        data.update(_detail_fields(sandbox, project, mr, viewer))
    return data


def _detail_fields(
    sandbox: Sandbox, project: Project, mr: MergeRequest, viewer: User | None
) -> JSON:
    head = sandbox.store.pipeline_for_mr(mr)
    facts = mr.facts
    return {
        "subscribed": False,
        "changes_count": str(facts.changes_count) if facts else None,
        "latest_build_started_at": iso(head.run.started_at) if head else None,
        "latest_build_finished_at": iso(head.run.finished_at) if head else None,
        "first_deployed_to_production_at": None,
        "pipeline": pipeline_basic(sandbox, project, head) if head else None,
        "head_pipeline": pipeline_full(sandbox, project, head) if head else None,
        "diff_refs": {"base_sha": mr.base_sha, "head_sha": mr.sha, "start_sha": mr.start_sha}
        if mr.sha
        else None,
        "merge_error": mr.merge_error,
        "first_contribution": False,
        "user": {
            "can_merge": bool(viewer and can_merge(sandbox, project, viewer, mr.target_branch))
        },
        "approvals_before_merge": project.settings.approvals_before_merge or None,
    }


def note(sandbox: Sandbox, project: Project, mr: MergeRequest, value: Note) -> JSON:
    return {
        "id": value.id,
        "type": value.type,
        "body": value.body,
        "attachment": None,
        "author": user_by_id(sandbox, value.author_id),
        "created_at": iso(value.created_at),
        "updated_at": iso(value.updated_at),
        "system": value.system,
        "noteable_id": mr.id,
        "noteable_type": "MergeRequest",
        "project_id": project.id,
        "commit_id": None,
        "position": None,
        "resolvable": value.resolvable,
        "resolved": value.resolved if value.resolvable else False,
        "resolved_by": user_by_id(sandbox, value.resolved_by_id),
        "resolved_at": iso(value.resolved_at),
        "confidential": False,
        "internal": False,
        "imported": False,
        "imported_from": "none",
        "noteable_iid": mr.iid,
        "commands_changes": {},
    }


def discussion(sandbox: Sandbox, project: Project, mr: MergeRequest, value: Discussion) -> JSON:
    return {
        "id": value.id,
        "individual_note": value.individual_note,
        "notes": [note(sandbox, project, mr, n) for n in value.notes],
    }


def approvals(sandbox: Sandbox, project: Project, mr: MergeRequest, viewer: User) -> JSON:
    """``GET .../approvals`` (and the answer of approve/unapprove)."""
    required = project.settings.approvals_before_merge
    left = approvals_left(project, mr)
    approver_ids = [a.user_id for a in mr.approvals]
    return {
        "id": mr.id,
        "iid": mr.iid,
        "project_id": project.id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "created_at": iso(mr.created_at),
        "updated_at": iso(mr.updated_at),
        "merge_status": merge_status(merge_facts(sandbox, project, mr)),
        "approved": left == 0,
        "approvals_required": required,
        "approvals_left": left,
        "require_password_to_approve": False,
        "approved_by": [{"user": user_by_id(sandbox, uid)} for uid in approver_ids],
        "suggested_approvers": [],
        "approvers": [],
        "approver_groups": [],
        "user_has_approved": viewer.id in approver_ids,
        "user_can_approve": viewer.id not in approver_ids and viewer.id != mr.author_id,
        "approval_rules_left": [],
        "has_approval_rules": required > 0,
        "merge_request_approvers_available": True,
        "multiple_approval_rules_available": True,
        "invalid_approvers_rules": [],
    }


def approval_state(sandbox: Sandbox, project: Project, mr: MergeRequest) -> JSON:
    """``GET .../approval_state``: one rule standing for the project's required approvals."""
    required = project.settings.approvals_before_merge
    approved_by = [user_by_id(sandbox, a.user_id) for a in mr.approvals]
    rules = []
    if required:
        rules.append(
            {
                "id": 1,
                "name": "All Members",
                "rule_type": "any_approver",
                "eligible_approvers": [],
                "approvals_required": required,
                "users": [],
                "groups": [],
                "contains_hidden_groups": False,
                "approved_by": approved_by,
                "source_rule": None,
                "approved": len(approved_by) >= required,
                "overridden": False,
            }
        )
    return {"approval_rules_overwritten": False, "rules": rules}


def pipeline_basic(sandbox: Sandbox, project: Project, value: Pipeline) -> JSON:
    return {
        "id": value.id,
        "iid": value.iid,
        "project_id": value.project_id,
        "sha": value.sha,
        "ref": value.ref,
        "status": value.status,
        "source": value.source,
        "created_at": iso(value.created_at),
        "updated_at": iso(value.updated_at or value.created_at),
        "web_url": f"{sandbox.base_url}/{project.path_with_namespace}/-/pipelines/{value.id}",
    }


def pipeline_full(sandbox: Sandbox, project: Project, value: Pipeline) -> JSON:
    run = value.run
    label = DETAILED_STATUS[run.status]
    data = pipeline_basic(sandbox, project, value)
    data.update(
        {
            "before_sha": value.before_sha,
            "tag": False,
            "yaml_errors": None,
            "user": user_by_id(sandbox, value.user_id),
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
            "committed_at": None,
            "duration": int(run.duration) if run.duration is not None else None,
            "queued_duration": run.queued_duration,
            "coverage": None,
            "detailed_status": {
                "icon": f"status_{label}",
                "text": label,
                "label": label,
                "group": value.status,
                "tooltip": label,
                "has_details": True,
                "details_path": f"/{project.path_with_namespace}/-/pipelines/{value.id}",
                "illustration": None,
                "favicon": f"/assets/ci_favicons/favicon_status_{value.status}.png",
            },
        }
    )
    return data


def job(
    sandbox: Sandbox, project: Project, value: Pipeline, ci_job: CiJob, viewer: User | None
) -> JSON:
    return {
        "id": ci_job.id,
        "status": ci_job.status.value,
        "stage": ci_job.stage,
        "name": ci_job.name,
        "ref": value.ref,
        "tag": False,
        "coverage": None,
        "allow_failure": False,
        "created_at": iso(ci_job.created_at),
        "started_at": iso(ci_job.started_at),
        "finished_at": iso(ci_job.finished_at),
        "erased_at": None,
        "duration": ci_job.duration,
        "queued_duration": ci_job.queued_duration,
        "user": user_basic(sandbox, viewer),
        "commit": {"id": value.sha, "short_id": value.sha[:8]},
        "pipeline": {
            "id": value.id,
            "project_id": project.id,
            "ref": value.ref,
            "sha": value.sha,
            "status": value.status,
        },
        "failure_reason": ci_job.failure_reason,
        "retried": ci_job.retried,
        "web_url": f"{sandbox.base_url}/{project.path_with_namespace}/-/jobs/{ci_job.id}",
        "project": {"ci_job_token_scope_enabled": False},
        "artifacts": [],
        "runner": None,
        "tag_list": [],
    }
