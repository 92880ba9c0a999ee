"""The train strategy: speculative cars, each a batch tested on top of the cars ahead of it.

Car k holds up to ``batch_size`` ready MRs in queue order; it is built (``BuildBatch``, one
push of ``<train_branch_prefix>/<target>/<id>``) on the tested tree of car k-1 (the head car on
the target), so its pipeline tests target + every car ahead + its members. Up to the train's
depth (adaptive: ``min(2, train_depth)`` at first, +1 after a landing, halved after a failure,
within 1 and ``train_depth``) cars run at once. The head car lands exactly its tested tree
(``batch_attempt``: compare-and-swap push or the batch MR's merge); the next car becomes the
head without a new pipeline. A failing car (after its pipeline retries) takes the cars behind
it down; the cars ahead go on; once they landed, its members are bisected by a batch run
(``batch``) on the target, culprits struck, and the train starts again behind it. A car that
is gone (a member left or was pushed to) or out of queue order (a priority raised) is rebuilt
with every car behind it; a target moved outside the queue rebuilds the whole train.
"""

from __future__ import annotations

from merge_assist.merging.engine import batch, batch_attempt, bisect
from merge_assist.merging.engine.batch_attempt import AttemptReport
from merge_assist.merging.engine.lifecycle import abort_attempt
from merge_assist.merging.engine.ordering import queue_order
from merge_assist.merging.engine.state import Attempt, AttemptMember, BatchRun, Phase, Train
from merge_assist.merging.engine.step import Step

# Cars landed within one step (each landing needs new observations anyway).
MAX_LANDINGS_PER_STEP = 10


def depth(step: Step) -> int:
    """How many cars may run at once now."""
    limit = step.config.train_depth
    current = step.train.depth or min(2, limit)
    return max(1, min(current, limit))


def progress(step: Step) -> None:
    """Advance the cars: land the head, watch the others, rebuild what is out of date.

    Cars run on after the project switched strategy (work in flight finishes under the
    strategy that started it); only ``extend`` follows the config."""
    train = step.train
    if not train.cars and not train.failed:
        return
    if step.target_sha is None:
        return
    _drop_gone(step)
    _keep_queue_order(step)
    _advance_head(step)
    _advance_behind(step)
    _bisect_failed(step)


def extend(step: Step) -> None:
    """Add cars at the tail, up to the train's depth (one per built car ahead)."""
    if step.config.strategy != "train" or step.target_sha is None or step.run is not None:
        return
    if step.train.failed or _foreign_attempts(step):
        return
    while len(step.train.cars) < depth(step):
        base = _tail_sha(step)
        ready = [
            mr
            for mr in queue_order(step.mrs.values())
            if mr.phase == Phase.READY and mr.iid in step.snapshots
        ][: step.config.batch_size]
        if base is None or not ready:
            return
        attempt_id = step.new_id()
        attempt = Attempt(
            id=attempt_id,
            kind="train-car",
            members=tuple(AttemptMember(iid=mr.iid, source_sha=mr.head_sha) for mr in ready),
            base_sha=base,
            status="building",
            started_at=step.now,
            branch=f"{step.config.train_branch_prefix}/{step.target_branch}/{attempt_id}",
        )
        step.attempts[attempt_id] = attempt
        for mr in ready:
            step.update_mr(mr.iid, phase=Phase.MERGING)
        _set(step, cars=(*step.train.cars, attempt_id), depth=depth(step))
        iids = tuple(mr.iid for mr in ready)
        step.history("train_car_started", iids, f"train-car:{attempt_id}:started", base=base)
        batch_attempt.begin(step, attempt)


def _tail_sha(step: Step) -> str | None:
    """What the next car is built on: the last car's tested tree, or the target."""
    if not step.train.cars:
        return step.target_sha
    return step.attempts[step.train.cars[-1]].tested_sha


def _foreign_attempts(step: Step) -> bool:
    """An attempt of another strategy still runs (the strategy was just changed)."""
    cars = set(step.train.cars)
    return any(a.active and a.id not in cars for a in step.attempts.values())


def _set(step: Step, **changes: object) -> Train:
    step.train = step.train.model_copy(update=changes)
    return step.train


def _abort_from(step: Step, index: int, reason: str) -> None:
    """Abort car ``index`` and every car behind it (their members go back to the queue)."""
    cars = step.train.cars
    for attempt_id in cars[index:]:
        attempt = step.attempts.get(attempt_id)
        if attempt is not None and attempt.active:
            abort_attempt(step, attempt_id, reason)
            if attempt.batch_mr_iid is not None:
                batch_attempt.finish(step, step.attempts[attempt_id], "aborted")
    if cars[index:]:
        step.note(f"train: {len(cars) - index} car(s) rebuilt: {reason}")
    _set(step, cars=cars[:index])


def _drop_gone(step: Step) -> None:
    """A car stopped by a member leaving or pushing is rebuilt, with the cars behind it."""
    for index, attempt_id in enumerate(step.train.cars):
        attempt = step.attempts.get(attempt_id)
        if attempt is None or not attempt.active:
            _abort_from(step, index, "a member of the car ahead left or changed")
            return


def _keep_queue_order(step: Step) -> None:
    """A ready MR that now sorts before a car's member (priority raised) rebuilds that car."""
    members = [
        (index, member.iid)
        for index, attempt_id in enumerate(step.train.cars)
        for member in step.attempts[attempt_id].members
    ]
    in_cars = {iid for _, iid in members}
    candidates = [
        mr
        for mr in step.mrs.values()
        if mr.iid in in_cars or (mr.phase == Phase.READY and mr.iid in step.snapshots)
    ]
    for position, mr in enumerate(queue_order(candidates)[: len(members)]):
        index, iid = members[position]
        if mr.iid != iid:
            if step.attempts[step.train.cars[index]].status == "landing":
                index += 1  # the landing may have happened: it goes on
            _abort_from(step, index, f"!{mr.iid} comes first in queue order now")
            return


def _advance_head(step: Step) -> None:
    """Land head cars as long as they passed."""
    for _ in range(MAX_LANDINGS_PER_STEP):
        if not step.train.cars:
            return
        attempt = step.attempts[step.train.cars[0]]
        if not _on_target(step, attempt):
            _abort_from(step, 0, "the target branch moved outside the queue")
            return
        if _ahead_landed_as_merge(step, attempt):  # same tree: land on that merge commit
            report = batch_attempt.progress_ahead(step, attempt)
            if report.kind == "conflicts":  # with what landed: real
                _conclude_head(step, report)
                return
            if report.kind == "running" or not _conclude_ahead(step, 0, report):
                return
            assert step.target_sha is not None
            attempt = step.update_attempt(attempt.id, base_sha=step.target_sha)
        report = batch_attempt.progress(step, attempt)
        if report.kind != "landed":
            _conclude_head(step, report)
            return
        _land(step, step.attempts[attempt.id], report)


def _on_target(step: Step, attempt: Attempt) -> bool:
    """The head car tests the target's tree: built on it, or on the tree it landed as."""
    if step.target_sha in (attempt.base_sha, attempt.tested_sha) or attempt.status == "landing":
        return True  # (a landing's own result tells whether it went through)
    if batch_attempt.landed_already(step, attempt):
        return True
    return step.train.landed == (attempt.base_sha, step.target_sha)


def _ahead_landed_as_merge(step: Step, attempt: Attempt) -> bool:
    """The car ahead of this one landed as a merge commit (``merge_api``): the target's tree
    is the one this car was built on, under another sha."""
    if attempt.status not in ("building", "testing") or step.target_sha == attempt.base_sha:
        return False
    return step.train.landed == (attempt.base_sha, step.target_sha)


def _land(step: Step, attempt: Attempt, report: AttemptReport) -> None:
    sha = report.landed_sha or attempt.tested_sha or ""
    batch_attempt.finish(step, attempt, "done")
    batch._land_members(step, attempt, sha)
    grown = min(step.config.train_depth, depth(step) + 1)
    _set(step, cars=step.train.cars[1:], landed=(attempt.tested_sha or sha, sha), depth=grown)


def _conclude_head(step: Step, report: AttemptReport) -> None:
    """The head car did not land: failed, conflicting, or stopped."""
    if report.kind == "running":
        return
    if report.kind == "aborted":
        _abort_from(step, 0, report.reason)
    elif report.kind == "conflicts":
        _abort_from(step, 0, "a member conflicts with the target")
        batch._strike_conflicts(step, report.conflicts)
    elif report.outcome is not None and report.outcome.failed:
        _fail(step, 0)


def _conclude_ahead(step: Step, index: int, report: AttemptReport) -> bool:
    """Apply what a car behind the head reported; True when it passed (it waits its turn)."""
    if report.kind == "aborted":
        _abort_from(step, index, report.reason)
        return False
    if report.kind == "conflicts":  # decided when it is the head: the cars ahead may fail
        return False
    if report.outcome is not None and report.outcome.failed:
        _fail(step, index)
        return False
    return report.kind == "tested"


def _advance_behind(step: Step) -> None:
    """Build and test the cars behind the head (a failure stops the cars behind it)."""
    for index, attempt_id in enumerate(step.train.cars):
        if index == 0:
            continue
        report = batch_attempt.progress_ahead(step, step.attempts[attempt_id])
        if report.kind in ("running", "conflicts"):
            continue
        if not _conclude_ahead(step, index, report):
            return


def _fail(step: Step, index: int) -> None:
    """Car ``index`` failed: the cars behind it are rebuilt, its members bisected later."""
    attempt = step.attempts[step.train.cars[index]]
    members = tuple((m.iid, m.source_sha) for m in attempt.members if m.status == "merged")
    _abort_from(step, index + 1, f"car {attempt.id} ahead failed")
    batch_attempt.finish(step, attempt, "done")
    for member in attempt.members:
        if member.status != "merged" and member.iid in step.mrs:
            step.update_mr(member.iid, phase=Phase.WAITING)
    _set(step, cars=step.train.cars[:index], failed=members, depth=max(1, depth(step) // 2))
    iids = tuple(iid for iid, _ in members)
    step.note(f"train car {attempt.id} failed: its members are bisected once the cars ahead land")
    step.history("train_car_failed", iids, f"train-car:{attempt.id}:failed")


def _bisect_failed(step: Step) -> None:
    """Once no car is ahead of it, bisect the failed car's members on the target."""
    if step.train.cars or not step.train.failed or step.run is not None:
        return
    assert step.target_sha is not None
    members = _still_waiting(step)
    _set(step, failed=())
    if not members:
        return
    before = bisect.start(tuple(iid for iid, _ in members))
    plan = bisect.next_test(before)
    assert plan is not None
    after = bisect.record(before, plan, bisect.TrialOutcome(passed_prefix=0, failed=True))
    if step.config.parallel_tests >= 2:
        after = bisect.without_partner_search(after)
    batch._strike_culprits(step, before, after)
    if bisect.is_done(after):
        return
    step.run = BatchRun(
        id=step.new_id(),
        base_sha=step.target_sha,
        expected_target_sha=step.target_sha,
        bisect=after,
        member_heads=members,
        started_at=step.now,
    )
    batch.progress(step)


def _still_waiting(step: Step) -> tuple[tuple[int, str], ...]:
    """The failed car's members still queued at the head it tested (others go back)."""
    kept = []
    for iid, sha in step.train.failed:
        mr = step.mrs.get(iid)
        if mr is None or mr.phase != Phase.MERGING:
            continue
        if mr.head_sha == sha:
            kept.append((iid, sha))
        else:
            step.update_mr(iid, phase=Phase.WAITING)
    return tuple(kept)
