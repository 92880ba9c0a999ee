"""The train's suspects and probes: a failed car's members are found out beside the train.

A car that fails (after the cars ahead of it) does not stop the train: its members become
*suspects*, split in two halves, and the cars behind are rebuilt without them. Each half is
tested by a **probe**: a branch of the group built on the train's tail (the last car's tested
tree, or the target), run beside the cars on the runners the cars leave free. A probe is
diagnosis only, never landed:

- it passes: its group becomes a car of its own, the next one (two halves that pass apart
  may still fail together: then that car fails and its group is halved again);
- it fails on a tree known to pass (a landed car's, or the target it was built on): a group
  of several is halved again, a member alone is the culprit and is struck (its pipeline was
  retried first: a flake is not a culprit);
- the car it was built on fails or is rebuilt: the probe is dropped, its group waits again.

Because probes sit on top of the cars, a member that breaks only with an MR of a later car
is caught by its probe too, once that car is ahead of it.
"""

from __future__ import annotations

from merge_assist.merging.engine import batch, batch_attempt
from merge_assist.merging.engine.batch_attempt import AttemptReport
from merge_assist.merging.engine.lifecycle import abort_attempt
from merge_assist.merging.engine.state import (
    MAX_REMEMBERED_GOOD_TREES,
    Attempt,
    AttemptMember,
    Phase,
    Train,
)
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.strikes import strike

Group = tuple[tuple[int, str], ...]


def set_train(step: Step, **changes: object) -> Train:
    """Replace fields of the step's train."""
    step.train = step.train.model_copy(update=changes)
    return step.train


def suspect(step: Step, members: Group, reason: str) -> None:
    """Members of a failed car wait for probes: two halves (one group when alone)."""
    if not members:
        return
    set_train(step, suspects=(*step.train.suspects, *_halves(members)))
    iids = tuple(iid for iid, _ in members)
    step.history("train_suspects", iids, f"train-suspects:{step.steps}:{iids}", reason=reason)


def _halves(group: Group) -> tuple[Group, ...]:
    """A group in two halves, the first the smaller (one group when alone)."""
    middle = max(1, len(group) // 2)
    return tuple(half for half in (group[:middle], group[middle:]) if half)


def _wait_first(step: Step, *groups: Group) -> None:
    """Groups (not empty) wait for a probe ahead of the others: they were suspected first."""
    waiting = tuple(group for group in groups if group)
    set_train(step, suspects=(*waiting, *step.train.suspects))


def remember_good(step: Step, *shas: str | None) -> None:
    """Trees known to pass (bounded)."""
    known = [*step.train.good, *(sha for sha in shas if sha)]
    kept = tuple(dict.fromkeys(reversed(known)))[:MAX_REMEMBERED_GOOD_TREES]
    set_train(step, good=tuple(reversed(kept)))


def release_all(step: Step, reason: str) -> None:
    """The strategy changed: groups not yet probed or not yet in a car go back to the queue."""
    for group in (*step.train.suspects, *step.train.cleared):
        _back_to_queue(step, group)
    if step.train.suspects or step.train.cleared:
        step.note(f"train: suspects released: {reason}")
    set_train(step, suspects=(), cleared=())


def next_cleared(step: Step) -> Group:
    """The first group whose probe passed, still as it was (empty: none)."""
    while step.train.cleared:
        group, rest = step.train.cleared[0], step.train.cleared[1:]
        set_train(step, cleared=rest)
        kept = still_suspect(step, group)
        if kept:
            return kept
    return ()


def start_probe(step: Step, base: str, attempt_id: int) -> bool:
    """Build a probe of the first group still waiting on ``base``; False when none waits."""
    while step.train.suspects:
        group, rest = step.train.suspects[0], step.train.suspects[1:]
        set_train(step, suspects=rest)
        kept = still_suspect(step, group)
        if not kept:
            continue
        if base == step.target_sha:
            remember_good(step, base)
        attempt = Attempt(
            id=attempt_id,
            kind="train-car",
            members=tuple(AttemptMember(iid=iid, source_sha=sha) for iid, sha in kept),
            base_sha=base,
            status="building",
            started_at=step.now,
            probe=True,
            branch=f"{step.config.train_branch_prefix}/{step.target_branch}/{attempt_id}",
        )
        step.attempts[attempt_id] = attempt
        set_train(step, probes=(*step.train.probes, attempt_id))
        iids = tuple(iid for iid, _ in kept)
        step.history("train_probe_started", iids, f"train-probe:{attempt_id}:started", base=base)
        batch_attempt.begin(step, attempt)
        return True
    return False


def settle(step: Step, car_trees: set[str]) -> None:
    """Conclude the probes whose result counts; drop those whose base car is gone.

    ``car_trees``: the tested trees of the cars still in the train (a probe built on one of
    them waits for it to land)."""
    for probe_id in step.train.probes:
        attempt = step.attempts.get(probe_id)
        if attempt is None:
            _forget_probe(step, probe_id)
            continue
        good = _good(step, attempt.base_sha)
        if not attempt.active or not (good or attempt.base_sha in car_trees):
            _drop(step, attempt, "the car it was built on is gone")
            continue
        report = batch_attempt.progress_ahead(step, attempt)
        if report.kind == "running":
            continue
        if report.kind == "aborted":
            _drop(step, attempt, report.reason)
        elif report.outcome is not None and not report.outcome.failed:
            _passed(step, attempt)
        elif good:
            _failed(step, attempt, report)


def _good(step: Step, sha: str) -> bool:
    train = step.train
    return sha == step.target_sha or sha in train.good or train.landed == (sha, step.target_sha)


def _members(attempt: Attempt) -> Group:
    return tuple((m.iid, m.source_sha) for m in attempt.members)


def still_suspect(step: Step, group: Group) -> Group:
    """The members still queued at the head they were tested with (the others go back)."""
    kept = []
    for iid, sha in group:
        mr = step.mrs.get(iid)
        if mr is None or mr.phase != Phase.MERGING:
            continue
        if mr.head_sha == sha:
            kept.append((iid, sha))
        else:
            step.update_mr(iid, phase=Phase.WAITING)
    return tuple(kept)


def _back_to_queue(step: Step, group: Group) -> None:
    for iid, _ in group:
        mr = step.mrs.get(iid)
        if mr is not None and mr.phase == Phase.MERGING:
            step.update_mr(iid, phase=Phase.WAITING)


def _forget_probe(step: Step, probe_id: int) -> None:
    set_train(step, probes=tuple(p for p in step.train.probes if p != probe_id))


def _finish(step: Step, attempt: Attempt) -> None:
    if attempt.active:
        batch_attempt.finish(step, attempt, "done")
    _forget_probe(step, attempt.id)


def _drop(step: Step, attempt: Attempt, reason: str) -> None:
    """The probe's result cannot count: its group waits for another one."""
    if attempt.active:
        abort_attempt(step, attempt.id, reason)
    _forget_probe(step, attempt.id)
    _wait_first(step, still_suspect(step, _members(attempt)))


def _passed(step: Step, attempt: Attempt) -> None:
    _finish(step, attempt)
    kept = still_suspect(step, _members(attempt))
    if kept:
        set_train(step, cleared=(*step.train.cleared, kept))
    iids = tuple(iid for iid, _ in kept)
    step.history("train_probe_passed", iids, f"train-probe:{attempt.id}:passed")


def _failed(step: Step, attempt: Attempt, report: AttemptReport) -> None:
    _finish(step, attempt)
    members = _members(attempt)
    kept = still_suspect(step, members)
    iids = tuple(iid for iid, _ in kept)
    step.history("train_probe_failed", iids, f"train-probe:{attempt.id}:failed")
    if report.conflicts:
        batch._strike_conflicts(step, tuple(i for i in report.conflicts if i in iids))
        _wait_first(step, tuple((i, sha) for i, sha in kept if i not in report.conflicts))
        return
    if len(kept) != len(members):  # a member moved or left: its old code may be the cause
        _wait_first(step, kept)
        return
    if len(kept) == 1:
        strike_culprit(step, kept[0][0], attempt)
        return
    _wait_first(step, *_halves(kept))


def strike_culprit(step: Step, iid: int, attempt: Attempt) -> None:
    """``iid`` failed alone on a tree known to pass: it is the culprit."""
    step.history("culprit", (iid,), f"culprit:{iid}:{step.steps}")
    text = f" (tested alone on top of `{attempt.base_sha[:12]}`, in train car {attempt.id})"
    strike(
        step,
        iid,
        template="batch_failed",
        summary=f"- the train's pipeline failed because of it{text}",
        block=True,
        partners=text,
    )
