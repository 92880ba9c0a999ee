"""What the train has seen of each suspect: a group failure that names it, the others cleared.

A group that fails on a tree known to pass *accuses* its members: each is remembered with the
others of that group. A member that passes afterwards (in a probe or a car) is *exonerated*.
When a member then fails alone on a tree known to pass while every other member of the group
that accused it was exonerated, its failure is the group's failure seen a second time, in a
second pipeline: the same evidence as a failure and its retry (a flake strikes it only if both
pipelines flaked), so it is struck without a third pipeline. A lone failure without that
evidence is retried first (``batch_attempt._confirm_by_retry``).
"""

from __future__ import annotations

from collections.abc import Iterable

from merge_assist.merging.engine.state import Attempt
from merge_assist.merging.engine.step import Step


def known_good(step: Step, sha: str | None) -> bool:
    """``sha`` is a tree known to pass: the target, a landed car's or a passed probe's tree
    (remembered), or one whose pipeline passed."""
    if sha is None:
        return False
    train = step.train
    if sha == step.target_sha or sha in train.good or train.landed == (sha, step.target_sha):
        return True
    pipeline = step.pipelines.get(sha)
    return pipeline is not None and pipeline.status == "success"


def accuse(step: Step, iids: tuple[int, ...]) -> None:
    """The group ``iids`` failed on a tree known to pass."""
    if len(iids) < 2:
        return
    group = set(iids)
    accused = {iid: others for iid, others in step.train.accused if iid not in group}
    for iid in iids:
        accused[iid] = tuple(other for other in iids if other != iid)
    exonerated = tuple(iid for iid in step.train.exonerated if iid not in group)
    _set(step, accused=_bounded(step, accused.items()), exonerated=exonerated)


def exonerate(step: Step, iids: Iterable[int]) -> None:
    """``iids`` passed (a probe or a car) or landed."""
    known = tuple(dict.fromkeys((*step.train.exonerated, *iids)))
    if known != step.train.exonerated:
        _set(step, exonerated=known)


def reproduced(step: Step, attempt: Attempt) -> bool:
    """A lone member's failure on a tree known to pass repeats its group's: the others of the
    group that failed with it all passed since."""
    members = [m.iid for m in attempt.members if m.status == "merged"]
    if len(members) != 1 or not known_good(step, attempt.base_sha):
        return False
    others = dict(step.train.accused).get(members[0], ())
    return bool(others) and set(others) <= set(step.train.exonerated)


def awaits_mates(step: Step, attempt: Attempt) -> bool:
    """A lone member failed while an MR of the group that accused it is still being tested:
    its result decides between a strike now and a retry, and comes within the round."""
    members = [m.iid for m in attempt.members if m.status == "merged"]
    pipeline = step.pipelines.get(attempt.tested_sha) if attempt.tested_sha else None
    if len(members) != 1 or pipeline is None or pipeline.verdict != "failed":
        return False
    waiting = set(dict(step.train.accused).get(members[0], ())) - set(step.train.exonerated)
    return any(
        other.active
        and other.id != attempt.id
        and waiting & {m.iid for m in other.members}
        and _still_running(step, other)
        for other in step.attempts.values()
    )


def _still_running(step: Step, attempt: Attempt) -> bool:
    """Built or being built, its pipeline not finished (a finished one is concluded in this
    step or the next: two lone failures never wait for each other)."""
    if attempt.tested_sha is None:
        return attempt.status == "building"
    pipeline = step.pipelines.get(attempt.tested_sha)
    return pipeline is None or pipeline.verdict == "running"


def forget_gone(step: Step) -> None:
    """Drop what is remembered of MRs that left the queue (the lists stay bounded: an MR
    exonerated is kept while an accused MR in the queue names it)."""
    train = step.train
    accused = _bounded(step, train.accused)
    named = {other for _, others in accused for other in others}
    exonerated = tuple(iid for iid in train.exonerated if iid in named)
    if accused != train.accused or exonerated != train.exonerated:
        _set(step, accused=accused, exonerated=exonerated)


def _bounded(
    step: Step, accused: Iterable[tuple[int, tuple[int, ...]]]
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    return tuple(sorted((iid, others) for iid, others in accused if iid in step.mrs))


def _set(step: Step, **changes: object) -> None:
    step.train = step.train.model_copy(update=changes)
