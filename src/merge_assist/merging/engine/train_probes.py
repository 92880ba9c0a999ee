"""The train's suspects and probes: a failed car's members are found out beside the train.

A car that fails (after the cars ahead of it) does not stop the train: its members become
*suspects*, split in two halves, and the cars behind are rebuilt without them. Each half is
tested by a **probe**, a branch of the group run beside the cars on the runners they leave
free: the first half alone on the train's tail (the last car's tested tree, or the target),
the other half on the **chain** of hopeful probes (on the tree of the last hopeful probe
running, else on the tail), so that when the first halves hold the culprits the other halves
pass stacked and land together instead of one round each.

- it passes on the train's tail: it joins the train as its last car, without a new pipeline;
  elsewhere its group becomes a car of its own, the next one (two halves that pass apart may
  still fail together: then that car fails and its group is halved again);
- it fails on a tree known to pass (a landed car's, a probe's that passed, or the target it was
  built on): a group of several is halved again, a member alone is the culprit and is struck —
  after its pipeline's retry, or at once when the others of the group that failed with it
  all passed (``train_evidence``: the failure was seen twice);
- the tree it was built on fails or is rebuilt: the probe is dropped, its group waits again.

Because probes sit on top of the cars, a member that breaks only with an MR of a later car
is caught by its probe too, once that car is ahead of it.
"""

from __future__ import annotations

from typing import Literal

from merge_assist.merging.engine import batch, batch_attempt, train_evidence
from merge_assist.merging.engine.batch_attempt import AttemptReport
from merge_assist.merging.engine.lifecycle import abort_attempt
from merge_assist.merging.engine.ordering import queue_order
from merge_assist.merging.engine.retries import retries_of
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


def suspect(step: Step, members: Group, reason: str, *, good_base: bool) -> None:
    """Members of a failed car wait for probes: two halves (one group when alone).
    ``good_base``: the car was built on a tree known to pass (its failure is its own)."""
    if not members:
        return
    iids = tuple(iid for iid, _ in members)
    if good_base:
        train_evidence.accuse(step, iids)
    first, other = _halves(members)
    set_train(
        step,
        suspects=(*step.train.suspects, first),
        hopeful=(*step.train.hopeful, *((other,) if other else ())),
    )
    step.history("train_suspects", iids, f"train-suspects:{step.steps}:{iids}", reason=reason)


def _halves(group: Group) -> tuple[Group, Group]:
    """A group in two halves, the first the smaller (the second empty when alone)."""
    middle = max(1, len(group) // 2)
    return group[:middle], group[middle:]


def _wait_first(step: Step, group: Group, *, hopeful: bool = False) -> None:
    """A group (when not empty) waits for a probe again, ahead of the groups suspected after
    it (the waiting groups keep queue order). ``hopeful``: on the chain of hopeful probes."""
    if not group:
        return
    if hopeful:
        set_train(step, hopeful=_in_queue_order(step, (group, *step.train.hopeful)))
    else:
        set_train(step, suspects=_in_queue_order(step, (group, *step.train.suspects)))


def _in_queue_order(step: Step, groups: tuple[Group, ...]) -> tuple[Group, ...]:
    """Groups by the queue position of their first member (priority, then arrival)."""
    position = {mr.iid: index for index, mr in enumerate(queue_order(step.mrs.values()))}
    return tuple(sorted(groups, key=lambda g: min(position.get(iid, 0) for iid, _ in g)))


def _split_first(step: Step, group: Group) -> None:
    """A group that failed again waits in halves: the first alone, the other hopeful."""
    first, other = _halves(group)
    _wait_first(step, other, hopeful=True)
    _wait_first(step, first)


def remember_good(step: Step, *shas: str | None) -> None:
    """Trees known to pass (bounded)."""
    known = [*step.train.good, *(sha for sha in shas if sha)]
    kept = tuple(dict.fromkeys(reversed(known)))[:MAX_REMEMBERED_GOOD_TREES]
    set_train(step, good=tuple(reversed(kept)))


def release_all(step: Step, reason: str) -> None:
    """The strategy changed: groups not yet probed or not yet in a car go back to the queue."""
    waiting = (*step.train.suspects, *step.train.hopeful, *step.train.cleared)
    for group in waiting:
        _back_to_queue(step, group)
    if waiting:
        step.note(f"train: suspects released: {reason}")
    set_train(step, suspects=(), hopeful=(), cleared=())


def next_cleared(step: Step) -> Group:
    """The first group whose probe passed, still as it was (empty: none)."""
    while step.train.cleared:
        group, rest = step.train.cleared[0], step.train.cleared[1:]
        set_train(step, cleared=rest)
        kept = still_suspect(step, group)
        if kept:
            return kept
    return ()


def start_probe(step: Step, tail: str, attempt_id: int) -> bool:
    """Build a probe of the first group waiting: a suspect alone on ``tail`` (the train's),
    else a hopeful one on the chain; False when none can start now."""
    group = _next_waiting(step, "suspects")
    if group:
        _start(step, group, tail, attempt_id, chained=False)
        return True
    base = _chain_tail(step, tail)
    group = _next_waiting(step, "hopeful") if base is not None else ()
    if base is not None and group:
        _start(step, group, base, attempt_id, chained=True)
        return True
    return False


def _next_waiting(step: Step, queue: Literal["suspects", "hopeful"]) -> Group:
    """Take the first group of ``queue`` still as it was (empty: none)."""
    while waiting := getattr(step.train, queue):
        set_train(step, **{queue: waiting[1:]})
        kept = still_suspect(step, waiting[0])
        if kept:
            return kept
    return ()


def _chain_tail(step: Step, tail: str) -> str | None:
    """Where the next hopeful probe is built: the tree of the last one running, else the
    train's tail (None while the last one is still being built)."""
    for probe_id in reversed(step.train.chain):
        attempt = step.attempts.get(probe_id)
        if attempt is not None and attempt.active and not _failed_once(step, attempt):
            return attempt.tested_sha
    return tail


def new_attempt(step: Step, attempt_id: int, group: Group, base: str, *, probe: bool) -> Attempt:
    """A train car or probe of ``group`` to build on ``base`` (recorded in the step)."""
    attempt = Attempt(
        id=attempt_id,
        kind="train-car",
        members=tuple(AttemptMember(iid=iid, source_sha=sha) for iid, sha in group),
        base_sha=base,
        status="building",
        started_at=step.now,
        probe=probe,
        branch=f"{step.config.train_branch_prefix}/{step.target_branch}/{attempt_id}",
    )
    step.attempts[attempt_id] = attempt
    return attempt


def _start(step: Step, group: Group, base: str, attempt_id: int, *, chained: bool) -> None:
    if base == step.target_sha:
        remember_good(step, base)
    attempt = new_attempt(step, attempt_id, group, base, probe=True)
    chain = (*step.train.chain, attempt_id) if chained else step.train.chain
    set_train(step, probes=(*step.train.probes, attempt_id), chain=chain)
    iids = tuple(iid for iid, _ in group)
    step.history("train_probe_started", iids, f"train-probe:{attempt_id}:started", base=base)
    batch_attempt.begin(step, attempt)


def settle(step: Step, car_trees: set[str], tail: str | None) -> None:
    """Conclude the probes whose result counts; drop those whose base is gone.

    ``car_trees``: the tested trees of the cars still in the train (a probe built on one of
    them, or on a probe still running, waits for it). ``tail``: the train's tail, where a
    probe that passed joins as a car. Probes that passed are concluded first: a lone failure
    in the same step may be the repetition of its group's (``train_evidence``)."""
    for probe_id in sorted(step.train.probes, key=lambda p: not _pipeline_passed(step, p)):
        attempt = step.attempts.get(probe_id)
        if attempt is None or not _stands(step, attempt, car_trees):
            continue
        if train_evidence.awaits_mates(step, attempt):
            continue
        good = train_evidence.known_good(step, attempt.base_sha)
        report = batch_attempt.progress_ahead(step, attempt)
        if report.kind == "running":
            continue
        if report.kind == "aborted":
            _drop(step, attempt, report.reason)
        elif report.outcome is not None and not report.outcome.failed:
            tail = _passed(step, attempt, tail)
        elif good:
            _failed(step, attempt, report)
    _drop_orphans(step, car_trees)


def _stands(step: Step, attempt: Attempt, car_trees: set[str]) -> bool:
    """The probe's base still stands: a tree known to pass, a car's, or a running probe's
    (else the probe is dropped and its group waits again)."""
    if not attempt.active:
        _drop(step, attempt, "it was stopped")
        return False
    base = attempt.base_sha
    if train_evidence.known_good(step, base) or base in car_trees:
        return True
    for probe_id in step.train.probes:
        other = step.attempts.get(probe_id)
        if (
            other is not None
            and other.id != attempt.id
            and other.active
            and other.tested_sha == base
            and not _failed_once(step, other)
        ):
            return True
    _drop(step, attempt, "the tree it was built on is gone or failed")
    return False


def _failed_once(step: Step, attempt: Attempt) -> bool:
    """The probe's pipeline failed (and runs again as its retry): nothing is built on it. (Not
    a ``skipped`` one: the push of a ``[skip ci]`` tip is saved as skipped before the
    pipeline the engine starts through the API.)"""
    pipeline = step.pipelines.get(attempt.tested_sha) if attempt.tested_sha else None
    return pipeline is not None and (pipeline.status == "failed" or retries_of(step, pipeline) > 0)


def _drop_orphans(step: Step, car_trees: set[str]) -> None:
    """Drop the probes built on a probe that failed or was dropped in this step (in chain
    order, so a chain falls together) before new probes are built on them."""
    for probe_id in step.train.probes:
        attempt = step.attempts.get(probe_id)
        if attempt is None:
            _forget_probe(step, probe_id)
        else:
            _stands(step, attempt, car_trees)


def _pipeline_passed(step: Step, probe_id: int) -> bool:
    attempt = step.attempts.get(probe_id)
    if attempt is None or attempt.tested_sha is None:
        return False
    pipeline = step.pipelines.get(attempt.tested_sha)
    return pipeline is not None and pipeline.status == "success"


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
    set_train(
        step,
        probes=tuple(p for p in step.train.probes if p != probe_id),
        chain=tuple(p for p in step.train.chain if p != probe_id),
    )


def _finish(step: Step, attempt: Attempt) -> None:
    if attempt.active:
        batch_attempt.finish(step, attempt, "done")
    _forget_probe(step, attempt.id)


def _drop(step: Step, attempt: Attempt, reason: str) -> None:
    """The probe's result cannot count: its group waits for another one."""
    chained = attempt.id in step.train.chain
    if attempt.active:
        abort_attempt(step, attempt.id, reason)
    _forget_probe(step, attempt.id)
    _wait_first(step, still_suspect(step, _members(attempt)), hopeful=chained)


def _passed(step: Step, attempt: Attempt, tail: str | None) -> str | None:
    """The probe passed: on the train's tail it joins the train as its last car (the new
    tail: its tree), elsewhere its group waits for a car. Returns the train's tail."""
    members = _members(attempt)
    kept = still_suspect(step, members)
    iids = tuple(iid for iid, _ in kept)
    train_evidence.exonerate(step, iids)
    remember_good(step, attempt.tested_sha)
    step.history("train_probe_passed", iids, f"train-probe:{attempt.id}:passed")
    if kept == members and _on_tail(step, attempt.base_sha, tail):
        _forget_probe(step, attempt.id)
        step.update_attempt(attempt.id, probe=False)
        set_train(step, cars=(*step.train.cars, attempt.id))
        step.history("train_probe_joined", iids, f"train-probe:{attempt.id}:joined")
        return attempt.tested_sha
    _finish(step, attempt)
    if kept:
        set_train(step, cleared=(*step.train.cleared, kept))
    return tail


def _on_tail(step: Step, base: str, tail: str | None) -> bool:
    """``base`` is the train's tail: the last car's tree or the target — also as the merge
    commit the last car landed as (``merge_api``: same tree, another sha)."""
    if base == tail:
        return True
    return not step.train.cars and step.train.landed == (base, step.target_sha)


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
    train_evidence.accuse(step, iids)
    _split_first(step, kept)


MAX_NAMED_PARTNERS = 20


def likely_partners(step: Step, iid: int) -> tuple[int, ...]:
    """The MRs landed by the train since ``iid`` joined the queue, in landing order: its own
    pipeline passed without them, so the one it breaks with is among them."""
    mr = step.mrs.get(iid)
    if mr is None:
        return ()
    since = [iids for when, iids in step.train.landings if when >= mr.recognised_at]
    return tuple(other for iids in since for other in iids if other != iid)


def strike_culprit(step: Step, iid: int, attempt: Attempt) -> None:
    """``iid`` failed alone on a tree known to pass: it is the culprit."""
    partners = likely_partners(step, iid)
    step.history("culprit", (iid,), f"culprit:{iid}:{step.steps}")
    text = f" (tested alone on top of `{attempt.base_sha[:12]}`, in train car {attempt.id}"
    if partners:
        names = ", ".join(f"!{other}" for other in partners[:MAX_NAMED_PARTNERS])
        more = len(partners) - MAX_NAMED_PARTNERS
        names += f" and {more} more" if more > 0 else ""
        text += f"; its own pipeline passed, so it likely breaks with what landed since: {names}"
    text += ")"
    strike(
        step,
        iid,
        template="batch_failed",
        summary=f"- the train's pipeline failed because of it{text}",
        block=True,
        partners=text,
    )
