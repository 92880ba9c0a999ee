"""Merge request behaviour: creation, updates, head tracking and mergeability facts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gitlab_sandbox.mergeability import MergeFacts, detailed_merge_status
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.pipelines import create_mr_pipeline
from gitlab_sandbox.store import BranchFacts, DiffVersion, Label, MergeRequest, Project, User


class MergeRequestError(ValueError):
    """An MR change GitLab refuses; ``status_code`` and ``message`` are GitLab's answer."""

    def __init__(self, status_code: int, message: object) -> None:
        super().__init__(str(message))
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class NewMergeRequest:
    """What ``POST /projects/:id/merge_requests`` asks for."""

    title: str
    source_branch: str
    target_branch: str
    description: str = ""
    assignee_ids: tuple[int, ...] = ()
    reviewer_ids: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    squash: bool | None = None
    remove_source_branch: bool | None = None


def squash_default(project: Project, requested: bool | None) -> bool:
    """Whether an MR squashes, given the project's ``squash_option``."""
    option = project.settings.squash_option
    if option == "always":
        return True
    if option == "never":
        return False
    if requested is not None:
        return requested
    return option == "default_on"


async def create_merge_request(
    sandbox: Sandbox, project: Project, author: User, request: NewMergeRequest
) -> MergeRequest:
    """Open an MR (409 when one is already open for the same branches)."""
    repo = sandbox.repo(project)
    source_sha = await asyncio.to_thread(repo.branch_sha, request.source_branch)
    target_sha = await asyncio.to_thread(repo.branch_sha, request.target_branch)
    errors: dict[str, list[str]] = {}
    if source_sha is None:
        errors["source_branch"] = ["is invalid"]
    if target_sha is None:
        errors["target_branch"] = ["is invalid"]
    if request.source_branch == request.target_branch:
        errors.setdefault("branch_conflict", []).append(
            "You can't use same project/branch for source and target"
        )
    if errors:
        raise MergeRequestError(409 if "branch_conflict" in errors else 400, errors)
    for other in sandbox.store.open_merge_requests(project.id):
        if (other.source_branch, other.target_branch) == (
            request.source_branch,
            request.target_branch,
        ):
            raise MergeRequestError(
                409,
                [f"Another open merge request already exists for this source branch: !{other.iid}"],
            )
    now = sandbox.now()
    mr = MergeRequest(
        id=sandbox.store.next_id("merge_request"),
        iid=sandbox.store.next_mr_iid(project.id),
        project_id=project.id,
        title=request.title,
        description=request.description,
        source_branch=request.source_branch,
        target_branch=request.target_branch,
        source_project_id=project.id,
        target_project_id=project.id,
        author_id=author.id,
        created_at=now,
        updated_at=now,
        sha=source_sha,
        base_sha=None,
        start_sha=target_sha,
        assignee_ids=list(request.assignee_ids),
        reviewer_ids=list(request.reviewer_ids),
        labels=list(dict.fromkeys(request.labels)),
        squash=squash_default(project, request.squash),
        should_remove_source_branch=request.remove_source_branch,
        force_remove_source_branch=bool(request.remove_source_branch),
    )
    start_checking(sandbox, mr)
    start_transient(sandbox, mr, preparing=True)
    sandbox.store.add_merge_request(mr)
    ensure_labels(sandbox, project, mr.labels)
    await refresh_facts(sandbox, project, mr)
    if project.settings.merge_pipelines_enabled:
        # MergeRequests::AfterCreateService#prepare_for_mergeability: ``create_pipeline_for``
        # (the sandbox runs merge request pipelines only for projects that enable them).
        await create_mr_pipeline(sandbox, project, mr, author.id)
    return mr


def ensure_labels(sandbox: Sandbox, project: Project, names: list[str]) -> None:
    """Create the project labels an MR uses that do not exist yet (as GitLab does)."""
    known = {label.name.lower() for label in project.labels}
    for name in names:
        if name.lower() not in known:
            project.labels.append(Label(id=sandbox.store.next_id("label"), name=name))
            known.add(name.lower())


# With the ``asynchronous`` option: simulated seconds of each transient window.
ASYNC_CHECK_SECONDS = 2.0
ASYNC_PREPARING_SECONDS = 1.0
ASYNC_APPROVALS_SYNCING_SECONDS = 1.0


def start_checking(sandbox: Sandbox, mr: MergeRequest) -> None:
    """Open the asynchronous re-check window: the MR reads ``checking`` for a while. With the
    ``asynchronous`` option it reads ``unchecked`` until someone asks (``request_check``)."""
    if sandbox.config.asynchronous:
        mr.check_requested, mr.checking_until = False, 0.0
        return
    mr.checking_until = sandbox.clock.monotonic() + sandbox.checking_seconds()


def request_check(sandbox: Sandbox, mr: MergeRequest) -> None:
    """A GET of the MR asks GitLab to check an ``unchecked`` MR (``check_mergeability(async:
    true)``): it reads ``checking`` for a while, then its status."""
    if mr.check_requested:
        return
    mr.check_requested = True
    seconds = max(sandbox.checking_seconds(), ASYNC_CHECK_SECONDS)
    mr.checking_until = sandbox.clock.monotonic() + seconds


def start_transient(sandbox: Sandbox, mr: MergeRequest, *, preparing: bool = False) -> None:
    """With the ``asynchronous`` option: ``preparing`` after creation, ``approvals_syncing``
    after a push to an MR that needs approvals."""
    if not sandbox.config.asynchronous:
        return
    now = sandbox.clock.monotonic()
    if preparing:
        mr.preparing_until = now + ASYNC_PREPARING_SECONDS
    else:
        mr.approvals_syncing_until = now + ASYNC_APPROVALS_SYNCING_SECONDS


def end_transients(sandbox: Sandbox) -> None:
    """Turning the ``asynchronous`` option off: no MR stays ``unchecked`` (nothing asks for a
    check any more), ``preparing`` or ``approvals_syncing``."""
    for mr in sandbox.store.merge_requests.values():
        mr.check_requested = True
        mr.preparing_until = mr.approvals_syncing_until = 0.0


async def refresh_facts(sandbox: Sandbox, project: Project, mr: MergeRequest) -> BranchFacts | None:
    """Recompute what git says about the MR's branches when either tip moved."""
    if mr.state != "opened":
        return mr.facts
    repo = sandbox.repo(project)

    def compute(known: BranchFacts | None) -> BranchFacts:
        target = repo.branch_sha(mr.target_branch)
        source = repo.branch_sha(mr.source_branch)
        if known is not None and (known.target_sha, known.source_sha) == (target, source):
            return known
        if target is None or source is None:
            return BranchFacts(target, source, None, False, False, 0)
        base = repo.merge_base(target, source)
        return BranchFacts(
            target_sha=target,
            source_sha=source,
            merge_base=base,
            has_conflicts=bool(repo.conflicts(target, source)),
            target_in_source=repo.is_ancestor(target, source),
            commits_count=len(repo.commits_between(target, source)),
            changes_count=len(repo.diff(base, source)) if base else 0,
        )

    facts = await asyncio.to_thread(compute, mr.facts)
    if mr.state == "opened":
        mr.facts = facts
        if facts.source_sha is not None:
            mr.sha = facts.source_sha
            mr.base_sha = facts.merge_base
            mr.start_sha = facts.target_sha
            if not mr.versions or mr.versions[-1].head_commit_sha != mr.sha:
                mr.versions.append(
                    DiffVersion(
                        id=sandbox.store.next_id("diff_version"),
                        head_commit_sha=mr.sha,
                        base_commit_sha=mr.base_sha,
                        start_commit_sha=mr.start_sha,
                        created_at=sandbox.now(),
                    )
                )
    return mr.facts


def approvals_left(project: Project, mr: MergeRequest) -> int:
    return max(project.settings.approvals_before_merge - len(mr.approvals), 0)


def discussions_resolved(mr: MergeRequest) -> bool:
    return all(d.resolved for d in mr.discussions if d.resolvable)


def merge_facts(sandbox: Sandbox, project: Project, mr: MergeRequest) -> MergeFacts:
    """The facts mergeability depends on (call ``refresh_facts`` first)."""
    facts = mr.facts
    pipeline = sandbox.store.pipeline_for_mr(mr)
    needs_rebase = (
        project.settings.merge_method in ("rebase_merge", "ff")
        and facts is not None
        and not facts.target_in_source
    )
    return MergeFacts(
        state=mr.state,
        checking=sandbox.clock.monotonic() < mr.checking_until,
        unchecked=not mr.check_requested,
        preparing=sandbox.clock.monotonic() < mr.preparing_until,
        approvals_syncing=sandbox.clock.monotonic() < mr.approvals_syncing_until,
        draft=mr.draft,
        source_exists=facts is None or facts.source_sha is not None,
        has_commits=facts is None or facts.source_sha is None or facts.commits_count > 0,
        has_conflicts=facts is not None and facts.has_conflicts,
        needs_rebase=needs_rebase,
        discussions_resolved=discussions_resolved(mr),
        discussions_required=project.settings.only_allow_merge_if_all_discussions_are_resolved,
        approvals_left=approvals_left(project, mr),
        pipeline_required=project.settings.only_allow_merge_if_pipeline_succeeds,
        pipeline_status=pipeline.status if pipeline else None,
        skipped_pipeline_allowed=project.settings.allow_merge_on_skipped_pipeline,
        requested_changes=requested_changes(mr),
    )


def requested_changes(mr: MergeRequest) -> bool:
    """A current reviewer requested changes (``CheckRequestedChangesService``, Premium+)."""
    return any(mr.reviewer_states.get(uid) == "requested_changes" for uid in mr.reviewer_ids)


def detailed_status(sandbox: Sandbox, project: Project, mr: MergeRequest) -> str:
    return detailed_merge_status(merge_facts(sandbox, project, mr))
