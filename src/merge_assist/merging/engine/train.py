"""The train strategy: speculative cars, each a batch tested on top of the cars ahead of it.

Car k holds up to ``batch_size`` ready MRs in queue order; it is built (``BuildBatch``, one
push of ``<train_branch_prefix>/<target>/<id>``) on the tested tree of car k-1 (the head car on
the target), so its pipeline tests target + every car ahead + its members. Up to the train's
depth (adaptive, Zuul-style: ``train_depth`` at first, +1 after a landing, -1 after a failed
car, within 1 and ``train_depth``) cars run at once, and cars and probes together never more
than ``train_depth`` (the runner budget). The head car lands exactly its tested tree
(``batch_attempt``: compare-and-swap push or the batch MR's merge); the next car becomes the
head without a new pipeline. A failing car takes the cars behind it down and is not retried
(a retry would cost every real failure a CI round): the cars behind are rebuilt at once
without its members, which become suspects found out by probes beside the train
(``train_probes``); a car of one MR leaves the train at once and its retry runs beside it
as a probe. A car that is gone (a member left or was pushed to) or passed by a higher
priority is rebuilt with every car behind it; a target moved outside the queue rebuilds the
whole train.
"""

from __future__ import annotations

from merge_assist.merging.engine import batch, batch_attempt, train_evidence, train_probes
from merge_assist.merging.engine.batch_attempt import AttemptReport
from merge_assist.merging.engine.lifecycle import abort_attempt
from merge_assist.merging.engine.ordering import queue_order
from merge_assist.merging.engine.state import Attempt, Phase, QueuedMergeRequest
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.train_probes import set_train as _set

# Cars landed within one step (each landing needs new observations anyway).
MAX_LANDINGS_PER_STEP = 10
# Landings remembered for the culprits' comments.
MAX_REMEMBERED_LANDINGS = 20


def depth(step: Step) -> int:
    """How many cars may run at once now."""
    limit = step.config.train_depth
    current = step.train.depth or limit
    return max(1, min(current, limit))


def _in_flight(step: Step) -> int:
    """Cars and probes running: what the runner budget (``train_depth``) counts."""
    return len(step.train.cars) + len(step.train.probes)


def progress(step: Step) -> None:
    """Advance the cars: land the head, watch the others, rebuild what is out of date, and
    conclude the probes.

    Cars and probes run on after the project switched strategy (work in flight finishes under
    the strategy that started it); only ``extend`` follows the config, and suspects not yet
    probed go back to the queue."""
    if step.train.idle or step.target_sha is None:
        return
    if step.train.failed:  # stored before probes existed: its members become suspects
        failed = step.train.failed
        _set(step, failed=())
        train_probes.suspect(step, failed, "a car failed", good_base=False)
    train_evidence.forget_gone(step)
    _drop_gone(step)
    _keep_queue_order(step)
    _advance_head(step)
    _advance_behind(step)
    cars = (step.attempts[attempt_id] for attempt_id in step.train.cars)
    car_trees = {car.tested_sha for car in cars if car.tested_sha}
    train_probes.settle(step, car_trees, _tail_sha(step))
    if step.config.strategy != "train":
        train_probes.release_all(step, f"the strategy is now {step.config.strategy}")


def extend(step: Step) -> None:
    """Add cars at the tail up to the train's depth on the runners the probes due leave, then
    probes of the suspects (``train_depth`` runners in all)."""
    if step.config.strategy != "train" or step.target_sha is None or step.run is not None:
        return
    if _foreign_attempts(step):
        return
    while len(step.train.cars) < depth(step) and _runners_for_cars(step) > 0:
        if not _add_car(step):
            break
    while _in_flight(step) < step.config.train_depth:
        tail = _tail_sha(step)
        if tail is None or not train_probes.start_probe(step, tail, step.new_id()):
            return


def _waiting(step: Step) -> list[QueuedMergeRequest]:
    """The ready MRs not in the train yet, in queue order."""
    return [
        mr
        for mr in queue_order(step.mrs.values())
        if mr.phase == Phase.READY and mr.iid in step.snapshots
    ]


def _add_car(step: Step) -> bool:
    """A car on the tail: the first group cleared by its probe, else the next ready MRs in
    queue order (``_car_size`` of them); False when there is none, or no tail yet. Ready MRs
    never wait for a probe running on the tail (holding them back cost more rounds than it saved:
    docs/performance.md)."""
    base = _tail_sha(step)
    if base is None:
        return False
    group = train_probes.next_cleared(step)
    if not group:
        waiting = _waiting(step)
        ready = waiting[: _car_size(step, len(waiting))]
        group = tuple((mr.iid, mr.head_sha) for mr in ready)
    if not group:
        return False
    attempt_id = step.new_id()
    attempt = train_probes.new_attempt(step, attempt_id, group, base, probe=False)
    for iid, _ in group:
        step.update_mr(iid, phase=Phase.MERGING)
    _set(step, cars=(*step.train.cars, attempt_id), depth=depth(step))
    iids = tuple(iid for iid, _ in group)
    step.history("train_car_started", iids, f"train-car:{attempt_id}:started", base=base)
    batch_attempt.begin(step, attempt)
    return True


def _runners_for_cars(step: Step) -> int:
    """Runners a new car may take: the budget (``train_depth``) less the cars and probes
    running and the probes due (the suspects were queued first: their probes come first)."""
    due = len(step.train.suspects) + len(step.train.hopeful)
    return step.config.train_depth - _in_flight(step) - due


def _car_size(step: Step, waiting: int) -> int:
    """How many ready MRs the next car takes: the waiting MRs spread over the runners the
    cars may use — free now, or held by a car that was running already when the last car
    landed, which frees it soon (up to ``batch_size`` each). A long queue fills whole cars;
    a short one, or a burst while the train runs, gets small cars, so a culprit holds back
    as few good MRs as possible instead of crowding into the one runner free now. (Cars
    started since the last landing do not count: they are what the free runners became.)"""
    last = step.train.landings[-1][0] if step.train.landings else None
    older = sum(
        1 for car in step.train.cars if last is not None and step.attempts[car].started_at < last
    )
    slots = _runners_for_cars(step) + older
    return min(step.config.batch_size, max(1, -(-waiting // max(1, slots))))


def _tail_sha(step: Step) -> str | None:
    """What the next car is built on: the last car's tested tree, or the target."""
    if not step.train.cars:
        return step.target_sha
    return step.attempts[step.train.cars[-1]].tested_sha


def _foreign_attempts(step: Step) -> bool:
    """An attempt of another strategy still runs (the strategy was just changed)."""
    cars = {*step.train.cars, *step.train.probes}
    return any(a.active and a.id not in cars for a in step.attempts.values())


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
    """A higher priority behind a car's member (a ready MR or one in a car behind: a priority
    raised) rebuilds that car and those behind. MRs of equal priority never pass a car: the
    cars already tested keep their place (a suspect cleared by its probe joins the tail)."""
    cars = step.train.cars
    waiting = [
        mr.priority
        for mr in step.mrs.values()
        if mr.phase == Phase.READY and mr.iid in step.snapshots
    ]
    behind = max(waiting, default=None)
    for index in range(len(cars) - 1, -1, -1):
        members = step.attempts[cars[index]].members
        priorities = [step.mrs[m.iid].priority for m in members if m.iid in step.mrs]
        if priorities and behind is not None and min(priorities) < behind:
            first = _first_passed(step, index, behind)
            _abort_from(step, first, "a merge request of higher priority comes first now")
            return
        if priorities:
            behind = max(priorities) if behind is None else max(behind, *priorities)


def _first_passed(step: Step, last: int, priority: int) -> int:
    """The first car holding a member of lower priority than ``priority`` (a landing one
    goes on: the landing may have happened)."""
    for index in range(last + 1):
        attempt = step.attempts[step.train.cars[index]]
        lower = any(
            step.mrs[m.iid].priority < priority for m in attempt.members if m.iid in step.mrs
        )
        if lower:
            return index + 1 if attempt.status == "landing" else index
    return last


def _advance_head(step: Step) -> None:
    """Land head cars as long as they passed."""
    for _ in range(MAX_LANDINGS_PER_STEP):
        if not step.train.cars:
            return
        attempt = step.attempts[step.train.cars[0]]
        if not _on_target(step, attempt):
            _abort_from(step, 0, "the target branch moved outside the queue")
            return
        if _retried_beside(step, 0):  # (also when the car ahead landed as a merge commit)
            continue
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
    train_evidence.exonerate(step, (m.iid for m in attempt.members if m.status == "merged"))
    grown = min(step.config.train_depth, depth(step) + 1)
    landed = tuple(m.iid for m in attempt.members if m.status == "merged")
    landings = (*step.train.landings, (step.now, landed))[-MAX_REMEMBERED_LANDINGS:]
    _set(
        step,
        cars=step.train.cars[1:],
        landed=(attempt.tested_sha or sha, sha),
        depth=grown,
        landings=landings,
    )
    train_probes.remember_good(step, attempt.tested_sha, sha)


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
    if report.kind == "tested":
        members = step.attempts[step.train.cars[index]].members
        train_evidence.exonerate(step, (m.iid for m in members if m.status == "merged"))
        return True
    return False


def _advance_behind(step: Step) -> None:
    """Build and test the cars behind the head (a failure stops the cars behind it)."""
    for index, attempt_id in enumerate(step.train.cars):
        if index == 0:
            continue
        if _retried_beside(step, index):
            return
        report = batch_attempt.progress_ahead(step, step.attempts[attempt_id])
        if report.kind in ("running", "conflicts"):
            continue
        if not _conclude_ahead(step, index, report):
            return


def _retried_beside(step: Step, index: int) -> bool:
    """Car ``index`` holds one MR and its pipeline failed: it leaves the train and its retry
    runs beside it as a probe (a flake is rare, a culprit common: the cars behind, which hold
    it too, are rebuilt without it at once instead of failing with it). Its probe strikes it
    when the retry fails on a tree known to pass; a retry that passes clears it for a car."""
    attempt = step.attempts[step.train.cars[index]]
    iids = tuple(m.iid for m in attempt.members if m.status == "merged")
    if len(iids) != 1 or not batch_attempt.awaits_retry(step, attempt):
        return False
    _abort_from(step, index + 1, f"car {attempt.id} ahead failed and is retried beside the train")
    step.update_attempt(attempt.id, probe=True)
    _set(
        step,
        cars=step.train.cars[:index],
        probes=(*step.train.probes, attempt.id),
        depth=max(1, depth(step) - 1),
    )
    step.history(
        "train_car_failed", iids, f"train-car:{attempt.id}:failed", retry="beside the train"
    )
    return True


def _fail(step: Step, index: int) -> None:
    """Car ``index`` failed: the cars behind it are rebuilt without its members, which become
    suspects (a lone member on a tree known to pass — the target, or a car ahead that
    passed — is the culprit)."""
    attempt = step.attempts[step.train.cars[index]]
    members = tuple((m.iid, m.source_sha) for m in attempt.members if m.status == "merged")
    good_base = index == 0 or train_evidence.known_good(step, attempt.base_sha)
    _abort_from(step, index + 1, f"car {attempt.id} ahead failed")
    batch_attempt.finish(step, attempt, "done")
    for member in attempt.members:
        if member.status != "merged" and member.iid in step.mrs:
            step.update_mr(member.iid, phase=Phase.WAITING)
    _set(step, cars=step.train.cars[:index], depth=max(1, depth(step) - 1))
    iids = tuple(iid for iid, _ in members)
    step.history("train_car_failed", iids, f"train-car:{attempt.id}:failed")
    if len(members) == 1 and good_base:  # alone on a tree known to pass (retried first)
        train_probes.strike_culprit(step, members[0][0], attempt)
        return
    step.note(f"train car {attempt.id} failed: its members are probed beside the train")
    train_probes.suspect(step, members, f"car {attempt.id} failed", good_base=good_base)
