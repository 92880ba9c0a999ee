"""One attempt of a batch run: build the branch, test it, land it (push or batch MR merge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeVar

from merge_assist.merging.engine import train_evidence
from merge_assist.merging.engine.actions import (
    BatchSource,
    BuildBatch,
    CloseBatchMR,
    CreateBatchMR,
    DeleteBranch,
    MergeMR,
    PushTarget,
    RunPipeline,
)
from merge_assist.merging.engine.bisect import TrialOutcome
from merge_assist.merging.engine.observations import (
    BatchBuildResult,
    BatchMRResult,
    MergeResult,
    Pipeline,
    PushResult,
)
from merge_assist.merging.engine.retries import retries_left, retry_failed
from merge_assist.merging.engine.state import Attempt
from merge_assist.merging.engine.step import Step

R = TypeVar("R", BatchBuildResult, BatchMRResult, PushResult)
ReportKind = Literal["running", "tested", "landed", "conflicts", "aborted"]


@dataclass(frozen=True)
class AttemptReport:
    """What happened to an attempt in this step."""

    kind: ReportKind
    outcome: TrialOutcome | None = None
    conflicts: tuple[int, ...] = ()
    reason: str = ""
    target_moved: bool = False
    landed_sha: str | None = None


RUNNING = AttemptReport(kind="running")


# How long a ``[skip ci]`` build waits for GitLab to save its push's skipped pipeline before
# starting its own anyway.
PUSH_PIPELINE_WAIT = timedelta(seconds=60)


def _skips_ci(step: Step) -> bool:
    """Batch branches are built with ``[skip ci]`` (``BuildBatch.skip_ci``)."""
    return step.config.skip_ci_on_landing and step.config.landing == "merge_api"


def begin(step: Step, attempt: Attempt) -> None:
    """Emit the first action of a new attempt: build its branch with one push."""
    assert attempt.branch is not None
    step.emit(
        BuildBatch(
            attempt_id=attempt.id,
            branch=attempt.branch,
            base_sha=attempt.base_sha,
            members=tuple(BatchSource(iid=m.iid, source_sha=m.source_sha) for m in attempt.members),
            skip_ci=_skips_ci(step),
        )
    )
    step.busy = True


def progress(step: Step, attempt: Attempt) -> AttemptReport:
    """Advance ``attempt`` as far as the observations allow."""
    if landed_already(step, attempt):
        size = sum(1 for m in attempt.members if m.status == "merged")
        return AttemptReport(
            kind="landed",
            outcome=TrialOutcome(passed_prefix=size, failed=False),
            landed_sha=step.target_sha,
        )
    moved = step.target_sha != attempt.base_sha
    if not attempt.probe and attempt.status in ("building", "testing") and moved:
        return AttemptReport(kind="aborted", reason="the target branch moved", target_moved=True)
    if attempt.status == "building":
        report, attempt = _building(step, attempt)
        if report is not None:
            return report
    if attempt.status == "testing":
        report, attempt = _testing(step, attempt)
        if report is not None:
            return report
    if attempt.status == "landing":
        return _landing(step, attempt)
    return RUNNING


def finish(step: Step, attempt: Attempt, status: Literal["done", "aborted"]) -> None:
    """Close the attempt's batch MR and delete its branch."""
    step.update_attempt(attempt.id, status=status)
    if attempt.batch_mr_iid is not None:
        step.emit(CloseBatchMR(iid=attempt.batch_mr_iid))
    if attempt.branch is not None:
        step.emit(DeleteBranch(branch=attempt.branch))


def _building(step: Step, attempt: Attempt) -> tuple[AttemptReport | None, Attempt]:
    assert attempt.branch is not None
    step.busy = True
    if any(m.status == "pending" for m in attempt.members):
        result = _last_of(step, BatchBuildResult, attempt.id)
        if result is None:  # not built yet, or the result was lost: build (again, idempotently)
            begin(step, attempt)
            return RUNNING, attempt
        if result.status == "failed" or not result.sha:
            reason = "the batch branch could not be built"
            return AttemptReport(kind="aborted", reason=_with(reason, result.message)), attempt
        attempt = _record_build(step, attempt, result)
        if any(m.status == "pending" for m in attempt.members):
            return AttemptReport(kind="aborted", reason="the batch build skipped a member"), attempt
    conflicts = tuple(m.iid for m in attempt.members if m.status == "conflict")
    if conflicts:
        if attempt.probe:  # a probe that cannot even be built fails
            return AttemptReport(
                kind="tested",
                outcome=TrialOutcome(passed_prefix=0, failed=True),
                conflicts=conflicts,
            ), attempt
        return AttemptReport(kind="conflicts", conflicts=conflicts), attempt
    attempt = step.update_attempt(attempt.id, status="testing", tested_sha=attempt.branch_sha)
    if not attempt.probe and not attempt.hold:
        _open_batch_mr(step, attempt)
    return None, attempt


def _record_build(step: Step, attempt: Attempt, result: BatchBuildResult) -> Attempt:
    """Apply the ``BuildBatch`` result: each member merged or conflicting, the pushed head."""
    built = {member.iid: member for member in result.members}
    members = tuple(
        member.model_copy(
            update={"status": built[member.iid].status, "prefix_sha": built[member.iid].prefix_sha}
        )
        if member.iid in built and member.status == "pending"
        else member
        for member in attempt.members
    )
    return step.update_attempt(attempt.id, members=members, branch_sha=result.sha)


def _with(reason: str, message: str) -> str:
    return f"{reason}: {message}" if message else reason


def _open_batch_mr(step: Step, attempt: Attempt) -> None:
    assert attempt.branch is not None
    names = ", ".join(f"!{m.iid}" for m in attempt.members)
    step.emit(
        CreateBatchMR(
            attempt_id=attempt.id,
            branch=attempt.branch,
            target_branch=step.target_branch,
            title=f"Merge Assist batch {attempt.id} into {step.target_branch}",
            description=f"Tests {names} together on top of `{attempt.base_sha[:12]}`.",
            labels=(step.config.labels.batch_mr,),
        )
    )


def _testing(step: Step, attempt: Attempt) -> tuple[AttemptReport | None, Attempt]:
    assert attempt.branch is not None
    assert attempt.tested_sha is not None
    tested_sha = attempt.tested_sha
    step.busy = True
    created, attempt = _absorb_batch_mr(step, attempt)
    pipeline, attempt = _tested_pipeline(step, attempt, tested_sha)
    if pipeline is None:
        return RUNNING, attempt
    size = sum(1 for m in attempt.members if m.status == "merged")
    if pipeline.verdict == "running":
        return RUNNING, attempt
    if pipeline.verdict == "failed":
        if _retried(step, attempt, pipeline):
            return RUNNING, attempt
        return AttemptReport(
            kind="tested", outcome=TrialOutcome(passed_prefix=0, failed=True)
        ), attempt
    if attempt.probe or attempt.hold:
        return AttemptReport(
            kind="tested", outcome=TrialOutcome(passed_prefix=size, failed=False)
        ), attempt
    if step.config.landing == "merge_api" and attempt.batch_mr_iid is None:
        if created is not None and created.status == "failed":
            return AttemptReport(kind="aborted", reason="the batch MR could not be opened"), attempt
        # Asked again until its iid is known: the result may have been lost, and the
        # executor reuses the open MR of the branch.
        _open_batch_mr(step, attempt)
        return RUNNING, attempt
    attempt = step.update_attempt(attempt.id, status="landing")
    _emit_landing(step, attempt)
    return RUNNING, attempt


def _absorb_batch_mr(step: Step, attempt: Attempt) -> tuple[BatchMRResult | None, Attempt]:
    """Take the batch MR's iid from its creation result (and tell the members once)."""
    created = _last_of(step, BatchMRResult, attempt.id)
    if created is not None and created.status == "created" and attempt.batch_mr_iid is None:
        attempt = step.update_attempt(
            attempt.id, batch_mr_iid=created.iid, batch_mr_url=created.web_url
        )
        _announce(step, attempt)
    return created, attempt


def progress_ahead(step: Step, attempt: Attempt) -> AttemptReport:
    """Advance a train car that is not at the head: build it and test it, never land it.

    A finished pipeline is reported as ``tested`` (a failure after its retries); the car
    lands once it is the head, through ``progress``, without a new pipeline."""
    if attempt.status == "building":
        report, attempt = _building(step, attempt)
        if report is not None:
            return report
    tested_sha = attempt.tested_sha
    if attempt.status != "testing" or tested_sha is None:
        return RUNNING
    step.busy = True
    _, attempt = _absorb_batch_mr(step, attempt)
    pipeline, attempt = _tested_pipeline(step, attempt, tested_sha)
    if pipeline is None or pipeline.verdict == "running":
        return RUNNING
    if pipeline.verdict == "failed":
        if _retried(step, attempt, pipeline):
            return RUNNING
        return AttemptReport(kind="tested", outcome=TrialOutcome(passed_prefix=0, failed=True))
    size = sum(1 for m in attempt.members if m.status == "merged")
    return AttemptReport(kind="tested", outcome=TrialOutcome(passed_prefix=size, failed=False))


# An isolation round of at least this many trials tells a flaky batch failure by itself: the
# trials pass (more than two of them), nobody is struck, one lands.
ISOLATION_TELLS_FLAKES = 4


def _retried(step: Step, attempt: Attempt, pipeline: Pipeline) -> bool:
    """Retry the failed pipeline if its failure would decide something the round cannot check
    by itself (``docs/merge-engine.md``, "Flakes"); True while the retry runs."""
    if not _confirm_by_retry(step, attempt):
        return False
    names = ", ".join(f"!{m.iid}" for m in attempt.members if m.status == "merged")
    what = "probe" if attempt.probe else ("train car" if attempt.kind == "train-car" else "batch")
    return retry_failed(
        step,
        pipeline,
        iids=tuple(m.iid for m in attempt.members if m.status == "merged"),
        subject=f"{what} attempt {attempt.id} ({names})",
    )


def awaits_retry(step: Step, attempt: Attempt) -> bool:
    """The attempt's pipeline failed and will be retried before its failure counts."""
    if attempt.status != "testing" or attempt.tested_sha is None:
        return False
    pipeline = step.pipelines.get(attempt.tested_sha)
    if pipeline is None or pipeline.status != "failed" or not _confirm_by_retry(step, attempt):
        return False
    return retries_left(step, pipeline)


def _confirm_by_retry(step: Step, attempt: Attempt) -> bool:
    """Whether a failure of this attempt is retried before the bisection learns from it.

    A train car or probe is retried only when it holds one MR (its failure strikes it); the
    members of a larger one are probed again anyway (``train_probes``).

    Not for an isolation trial (its failure only keeps the member it left out suspect; the
    passing trials name the culprit), nor for the first test of a set whose isolation round
    has at least ``ISOLATION_TELLS_FLAKES`` trials (the round itself tells a flake, and a
    retry would cost every real failure one CI round). Every other failure — a set of fewer
    members, a prefix, a halving test, a probe, a member tried alone — names a culprit
    directly, so it is retried first, even when the same tree failed before in the run: the
    sandbox (like a flaky test tied to the code) fails the same tree again on a new
    pipeline's first run, so only a retry is a second opinion.
    """
    if attempt.kind == "train-car":  # a car or probe of several: its members are probed
        alone = sum(1 for m in attempt.members if m.status == "merged") == 1
        return alone and not train_evidence.reproduced(step, attempt)
    plan = attempt.plan
    run = step.run
    if plan is None or run is None:
        return True
    if plan.omitted is not None:
        return False
    if plan.probe or plan.prefix:
        return True
    first_of_set = run.bisect.known_failing is None and plan.members == run.bisect.pending
    width = min(step.config.parallel_tests, len(plan.members))
    return not (first_of_set and width >= ISOLATION_TELLS_FLAKES)


def _tested_pipeline(
    step: Step, attempt: Attempt, tested_sha: str
) -> tuple[Pipeline | None, Attempt]:
    """The pipeline of the tested sha, asked for while none is seen: the executor reuses the
    newest pipeline of the sha, so asking again starts one only when the last request failed
    or was lost (a GitLab fault, a worker killed) — never twice the same tree."""
    assert attempt.branch is not None
    pipeline = step.pipelines.get(tested_sha)
    pushed = pipeline is not None  # GitLab has handled the push (its pipeline, maybe skipped)
    if pipeline is not None and pipeline.status == "skipped":  # built with ``[skip ci]``
        pipeline = None
    if pipeline is None:
        if _skips_ci(step) and not pushed and step.now - attempt.started_at < PUSH_PIPELINE_WAIT:
            # Start ours after GitLab saved the push's skipped one: the newest pipeline of a
            # commit is the batch MR's head pipeline, and a skipped head blocks its merge.
            return None, attempt
        step.emit(RunPipeline(attempt_id=attempt.id, ref=attempt.branch, sha=tested_sha))
        if tested_sha not in attempt.pipeline_requested:
            attempt = step.update_attempt(
                attempt.id, pipeline_requested=(*attempt.pipeline_requested, tested_sha)
            )
        return None, attempt
    if pipeline.id not in attempt.pipeline_ids:
        attempt = step.update_attempt(attempt.id, pipeline_ids=(*attempt.pipeline_ids, pipeline.id))
    return pipeline, attempt


def _emit_landing(step: Step, attempt: Attempt) -> None:
    assert attempt.tested_sha is not None
    if step.config.landing == "push":
        step.emit(
            PushTarget(
                attempt_id=attempt.id,
                target_branch=step.target_branch,
                sha=attempt.tested_sha,
                expected_old_sha=attempt.base_sha,
                skip_ci=step.config.skip_ci_on_landing,
            )
        )
    elif attempt.batch_mr_iid is not None:
        # The batch MR's head is the tested commit and contains the target: whatever the
        # project's merge method, the target ends on exactly the tested tree.
        step.emit(
            MergeMR(
                iid=attempt.batch_mr_iid,
                sha=attempt.tested_sha,
                expected_target_sha=attempt.base_sha,
                skip_ci=step.config.skip_ci_on_landing,
            )
        )


def _landing(step: Step, attempt: Attempt) -> AttemptReport:
    assert attempt.tested_sha is not None
    size = sum(1 for m in attempt.members if m.status == "merged")
    status, new_sha = _landing_result(step, attempt)
    if status is None and step.target_sha == attempt.tested_sha:
        status, new_sha = "landed", attempt.tested_sha  # the result was lost; GitLab shows it
    if status is None:
        _emit_landing(step, attempt)
        step.busy = True
        return RUNNING
    if status == "landed":
        return AttemptReport(
            kind="landed",
            outcome=TrialOutcome(passed_prefix=size, failed=False),
            landed_sha=new_sha or attempt.tested_sha,
        )
    return AttemptReport(
        kind="aborted",
        reason=f"landing refused ({status})",
        target_moved=status in ("stale", "target_moved", "sha_mismatch"),
    )


def _landing_result(step: Step, attempt: Attempt) -> tuple[str | None, str | None]:
    if step.config.landing == "push":
        push = _last_of(step, PushResult, attempt.id)
        if push is None:
            return None, None
        return ("landed" if push.status == "pushed" else push.status), push.new_sha
    merges = [r for r in step.results(MergeResult) if r.iid == attempt.batch_mr_iid]
    if not merges:
        return None, None
    merge = merges[-1]
    return ("landed" if merge.status == "merged" else merge.status), merge.merge_sha


def _last_of(step: Step, kind: type[R], attempt_id: int) -> R | None:
    found = [r for r in step.results(kind) if r.attempt_id == attempt_id]
    return found[-1] if found else None


def _announce(step: Step, attempt: Attempt) -> None:
    """Tell each member which batch MR tests it (once per run)."""
    run_id = step.run.id if step.run is not None else attempt.id
    link = attempt.batch_mr_url or f"!{attempt.batch_mr_iid}"
    for member in attempt.members:
        mr = step.mrs.get(member.iid)
        if mr is None:
            continue
        others = [f"!{m.iid}" for m in attempt.members if m.iid != member.iid]
        step.comment(
            member.iid,
            "batch_in_progress",
            mr.head_sha,
            f"run{run_id}",
            batch_link=link,
            members=", ".join(others) or "no other merge request",
        )


def landed_already(step: Step, attempt: Attempt) -> bool:
    """The landing went through but the worker died before storing that it had started.

    GitLab tells it by the target at the tested sha (a push), the batch MR merged at the
    tested head (the merge API merges it at once), or every member merged. The members alone
    are not enough right after a landing: GitLab marks them merged a moment after the target
    moved (PostReceive), and until then the landing would look like a target that moved."""
    if attempt.probe or attempt.status != "testing" or attempt.tested_sha is None:
        return False
    if step.target_sha == attempt.tested_sha:
        return True
    batch_mrs = [step.snapshots.get(attempt.batch_mr_iid or 0)]
    if attempt.batch_mr_iid is None:  # the step that learnt its iid may have been lost
        batch_mrs = [s for s in step.snapshots.values() if s.source_branch == attempt.branch]
    if any(
        mr is not None and (mr.state, mr.head_sha) == ("merged", attempt.tested_sha)
        for mr in batch_mrs
    ):
        return True
    members = [m for m in attempt.members if m.status == "merged"]
    snapshots = [step.snapshots.get(m.iid) for m in members]
    return bool(members) and all(s is not None and s.state == "merged" for s in snapshots)
