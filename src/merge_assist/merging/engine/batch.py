"""The batch strategy: a run tests the next ready MRs together, lands them when green, and
bisects when red (see ``bisect``): rounds of trials side by side (up to
``config.parallel_tests``: leave-one-out, then prefixes), or one attempt at a time with a
width of 1."""

from __future__ import annotations

from merge_assist.merging.engine import batch_attempt, bisect
from merge_assist.merging.engine.batch_attempt import AttemptReport
from merge_assist.merging.engine.lifecycle import mark_landed, release
from merge_assist.merging.engine.ordering import queue_order
from merge_assist.merging.engine.state import Attempt, AttemptMember, BatchRun, Phase
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.strikes import strike

# Attempts concluded and started within one step (each one needs new observations anyway).
MAX_ROUNDS_PER_STEP = 8


def start(step: Step) -> None:
    """Start a run over the next ready MRs (queue order, up to ``batch_size``)."""
    if step.run is not None or step.target_sha is None:
        return
    if any(attempt.active for attempt in step.attempts.values()):
        return
    ready = [
        mr
        for mr in queue_order(step.mrs.values())
        if mr.phase == Phase.READY and mr.iid in step.snapshots
    ]
    members = ready[: step.config.batch_size]
    if not members:
        return
    iids = tuple(mr.iid for mr in members)
    step.run = BatchRun(
        id=step.new_id(),
        base_sha=step.target_sha,
        expected_target_sha=step.target_sha,
        bisect=bisect.start(iids),
        member_heads=tuple((mr.iid, mr.head_sha) for mr in members),
        started_at=step.now,
    )
    for iid in iids:
        step.update_mr(iid, phase=Phase.MERGING)
    step.history("batch_started", iids, f"batch:{step.run.id}:started", base=step.target_sha)
    progress(step)


def progress(step: Step) -> None:
    """Advance the run: conclude the attempt in flight, plan and start the next one."""
    for _ in range(MAX_ROUNDS_PER_STEP):
        run = step.run
        if run is None:
            return
        if run.round_ids:
            if not _progress_round(step, run):
                return
            continue
        attempt = step.attempts.get(run.attempt_id) if run.attempt_id is not None else None
        if attempt is not None and attempt.active:
            if not _progress_attempt(step, attempt.id):
                return
            continue
        _plan_next(step, run)
        return


def _progress_attempt(step: Step, attempt_id: int) -> bool:
    """Advance the attempt in flight; True once it concluded and the run goes on."""
    report = batch_attempt.progress(step, step.attempts[attempt_id])
    return report.kind != "running" and _conclude(step, attempt_id, report)


def _plan_next(step: Step, run: BatchRun) -> None:
    """No attempt in flight: start the next trial (or round), or finish or end the run."""
    if step.target_sha is None:
        return
    if step.target_sha != run.expected_target_sha:
        _end_run(step, "the target branch moved outside the queue")
        return
    plans = bisect.next_tests(run.bisect, step.config.parallel_tests)
    if not plans:
        _finish_run(step)
    elif plans[0].side_by_side:
        _start_round(step, run, plans)
    else:
        _start_attempt(step, run, plans[0])


def _start_attempt(step: Step, run: BatchRun, plan: bisect.Trial) -> None:
    attempt_id = _new_attempt(step, run, plan)
    step.run = run.model_copy(update={"attempt_id": attempt_id, "attempts": run.attempts + 1})
    batch_attempt.begin(step, step.attempts[attempt_id])


def _start_round(step: Step, run: BatchRun, plans: tuple[bisect.Trial, ...]) -> None:
    """Start a round's trials side by side, each on the current target."""
    ids = tuple(_new_attempt(step, run, plan) for plan in plans)
    step.run = run.model_copy(
        update={"round_ids": ids, "round_outcomes": (), "attempts": run.attempts + len(ids)}
    )
    if plans[0].omitted is not None:
        what = "leaving out " + ", ".join(f"!{plan.omitted}" for plan in plans)
    else:
        what = "prefixes of " + ", ".join(str(len(plan.members)) for plan in plans)
    step.note(f"batch run {run.id}: {len(ids)} trials side by side, {what}")
    for attempt_id in ids:
        batch_attempt.begin(step, step.attempts[attempt_id])


def _progress_round(step: Step, run: BatchRun) -> bool:
    """Advance the round of side-by-side trials; True once it is settled (the run goes on)."""
    outcomes = dict(run.round_outcomes)
    for attempt_id in run.round_ids:
        attempt = step.attempts[attempt_id]
        if attempt_id in outcomes or not attempt.active:
            continue
        report = batch_attempt.progress(step, attempt)
        if report.kind == "aborted":
            _end_run(step, report.reason)
            return False
        if report.kind == "running":
            continue
        # A trial that cannot be built (conflicts) fails like one whose pipeline failed.
        passed = (
            report.kind == "tested" and report.outcome is not None and not report.outcome.failed
        )
        outcomes[attempt_id] = passed
    step.run = run = run.model_copy(update={"round_outcomes": tuple(outcomes.items())})
    if len(outcomes) < len(run.round_ids):
        return False
    trials = {i: step.attempts[i] for i in run.round_ids}
    after, landing = _record_round(run.bisect, trials, outcomes)
    chosen = next((a for a in trials.values() if landing is not None and a.plan == landing), None)
    for attempt in trials.values():
        if attempt is not chosen:
            batch_attempt.finish(step, step.attempts[attempt.id], "done")
    update: dict[str, object] = {"bisect": after, "round_ids": (), "round_outcomes": ()}
    if chosen is not None:
        step.update_attempt(chosen.id, hold=False)
        update["attempt_id"] = chosen.id
        names = ", ".join(f"!{iid}" for iid in landing.members) if landing else ""
        step.note(f"batch run {run.id}: landing the tested trial of {names}")
    step.run = run.model_copy(update=update)
    # Only now: a culprit rejected at once leaves the queue, and leaving must not stop the
    # round's chosen trial (it does not hold the culprit).
    _strike_culprits(step, run.bisect, after)
    return True


def _record_round(
    state: bisect.BisectState, trials: dict[int, Attempt], outcomes: dict[int, bool]
) -> tuple[bisect.BisectState, bisect.Trial | None]:
    """What the bisection learns from a settled round (isolation or prefixes)."""
    plans = {i: trials[i].plan for i in outcomes if trials[i].plan is not None}
    omissions = tuple(
        (plan.omitted, outcomes[i]) for i, plan in plans.items() if plan and plan.omitted
    )
    if omissions:
        return bisect.record_isolation(state, omissions)
    lengths = tuple((len(plan.members), outcomes[i]) for i, plan in plans.items() if plan)
    return bisect.record_prefixes(state, lengths)


def _new_attempt(step: Step, run: BatchRun, plan: bisect.Trial) -> int:
    heads = dict(run.member_heads)
    attempt_id = step.new_id()
    attempt = Attempt(
        id=attempt_id,
        kind="batch",
        members=tuple(_member(iid, heads.get(iid, "")) for iid in plan.members),
        base_sha=run.base_sha if plan.probe else (step.target_sha or run.base_sha),
        status="building",
        started_at=step.now,
        probe=plan.probe,
        plan=plan,
        branch=f"{step.config.batch_branch_prefix}/{step.target_branch}/{attempt_id}",
        hold=plan.side_by_side,
    )
    step.attempts[attempt_id] = attempt
    return attempt_id


def _member(iid: int, sha: str) -> AttemptMember:
    return AttemptMember(iid=iid, source_sha=sha)


def _conclude(step: Step, attempt_id: int, report: AttemptReport) -> bool:
    """Apply a finished attempt to the run; False when the run ended."""
    run = step.run
    attempt = step.attempts[attempt_id]
    assert run is not None
    if report.kind == "aborted":
        batch_attempt.finish(step, attempt, "aborted")
        _end_run(step, report.reason)
        return False
    if report.kind == "conflicts":
        batch_attempt.finish(step, attempt, "aborted")
        step.run = run.model_copy(update={"attempt_id": None})
        _strike_conflicts(step, report.conflicts)
        return True
    batch_attempt.finish(step, attempt, "done")
    before = run.bisect
    assert attempt.plan is not None
    assert report.outcome is not None
    if attempt.plan.side_by_side:  # the trial its round picked
        after = bisect.record_side_landed(before, attempt.plan)
    else:
        after = bisect.record(before, attempt.plan, report.outcome)
    if step.config.parallel_tests >= 2:
        after = bisect.without_partner_search(after)
    update: dict[str, object] = {"bisect": after, "attempt_id": None}
    if report.kind == "landed":
        update["expected_target_sha"] = report.landed_sha or step.target_sha
    step.run = run.model_copy(update=update)
    if report.kind == "landed":
        _land_members(step, attempt, report.landed_sha or attempt.tested_sha or "")
    _strike_culprits(step, before, after)
    return True


def _strike_conflicts(step: Step, conflicts: tuple[int, ...]) -> None:
    for iid in conflicts:
        release(step, iid, "conflicts with the batch")
        strike(
            step,
            iid,
            template="batch_conflict",
            summary="- it conflicts with the other merge requests of the batch",
            block=True,
            reason="resolve the conflicts with the target branch and push",
        )


def _land_members(step: Step, attempt: Attempt, sha: str) -> None:
    members = tuple(m.iid for m in attempt.members if m.status == "merged")
    names = ", ".join(f"!{iid}" for iid in members)
    batch_name = f"!{attempt.batch_mr_iid}" if attempt.batch_mr_iid else f"#{attempt.id}"
    for iid in members:
        mark_landed(step, iid, sha, batch_name=batch_name, members=names)
    step.history("batch_landed", members, f"batch-attempt:{attempt.id}:landed", sha=sha)


def _strike_culprits(step: Step, before: bisect.BisectState, after: bisect.BisectState) -> None:
    for culprit in after.culprits[len(before.culprits) :]:
        partners = ", ".join(f"!{iid}" for iid in culprit.partners)
        text = f" (it fails only together with {partners}, merged before it)" if partners else ""
        step.history(
            "culprit", (culprit.iid, *culprit.partners), f"culprit:{culprit.iid}:{step.steps}"
        )
        strike(
            step,
            culprit.iid,
            template="batch_failed",
            summary=f"- the batch pipeline failed because of it{text}",
            block=True,
            partners=text,
        )


def _end_run(step: Step, reason: str) -> None:
    """Stop the run early; members not yet landed go back to the queue."""
    run = step.run
    if run is None:
        return
    for attempt_id in (run.attempt_id, *run.round_ids):
        attempt = step.attempts.get(attempt_id) if attempt_id is not None else None
        if attempt is not None and attempt.active:
            batch_attempt.finish(step, attempt, "aborted")
    for iid in run.bisect.pending:
        mr = step.mrs.get(iid)
        if mr is not None and mr.phase == Phase.MERGING:
            step.update_mr(iid, phase=Phase.WAITING)
    step.note(f"batch run {run.id} ended: {reason}")
    step.history("batch_ended", run.bisect.pending, f"batch:{run.id}:ended", reason=reason)
    step.run = None


def _finish_run(step: Step) -> None:
    run = step.run
    assert run is not None
    culprits = tuple(c.iid for c in run.bisect.culprits)
    step.history(
        "batch_finished",
        run.bisect.landed + culprits,
        f"batch:{run.id}:finished",
        landed=",".join(map(str, run.bisect.landed)),
        culprits=",".join(map(str, culprits)),
        attempts=str(run.attempts),
    )
    step.run = None
