"""Bisection of a failed batch: isolate the culprits, land the rest, never land a failed set.

The planner is a pure state machine. Members are tried in queue order on top of what this run
has already landed (the current target): a passing test lands its members at once, so the
target only ever moves to a tree that was tested. ``known_failing = k`` records a real test
result: ``landed + pending[:k]`` failed. Halving ``k`` finds the first member that breaks the
landed tree; that member is the suspect. Probes on the run's original base then tell a culprit
that fails alone from one that fails only together with an earlier member (a pair), whose
partner is found by bisecting the landed members. Probes are never landed.

When a whole set fails and runners are free, the planner first **isolates** side by side
(``next_tests`` with a width above 1): each trial leaves one member out. One CI round then
usually settles it: the only omission that passes names a culprit that fails alone (or with
what is landed), two that pass name a pair that fails only together, and the passing trial is
landed at once. When every omission fails (several culprits), a **prefix round** follows:
the proper prefixes of the failing set side by side; the longest passing one lands and the
member after it, whose prefix fails, is a culprit. Halving (one test at a time) is what runs
with a width of 1.
"""

from __future__ import annotations

from merge_assist.merging.engine.values import Frozen


class Culprit(Frozen):
    """A member that breaks the build; ``partners`` are the members it fails together with."""

    iid: int
    partners: tuple[int, ...] = ()


class PartnerSearch(Frozen):
    """Probing ``suspect``: ``landed[:high] + suspect`` fails; ``landed[:low] + suspect`` passes.

    ``low`` is -1 until the suspect was tested alone.
    """

    suspect: int
    low: int
    high: int


class Isolation(Frozen):
    """Leave-one-out trials of the failing set ``pending``: omissions whose trial failed or
    passed so far; ``exhausted`` once every omission failed (halving takes over)."""

    failed: tuple[int, ...] = ()
    passed: tuple[int, ...] = ()
    exhausted: bool = False


class BisectState(Frozen):
    """Where a batch run stands."""

    pending: tuple[int, ...]
    landed: tuple[int, ...] = ()
    culprits: tuple[Culprit, ...] = ()
    known_failing: int | None = None
    search: PartnerSearch | None = None
    isolation: Isolation | None = None
    tests: int = 0


class Trial(Frozen):
    """Build ``members`` in order on the current target (``probe`` False, landable if it
    passes) or on the run's original base (``probe`` True, diagnosis only). ``omitted`` marks
    an isolation trial: ``pending`` without that member, landed only if the round picks it."""

    members: tuple[int, ...]
    probe: bool = False
    omitted: int | None = None
    prefix: bool = False  # a prefix round's trial: landed only if it is the longest passing

    @property
    def side_by_side(self) -> bool:
        """Run beside others of its round and landed only if the round picks it."""
        return self.omitted is not None or self.prefix


class TrialOutcome(Frozen):
    """A finished test: ``passed_prefix`` leading members are known to pass; ``failed`` says
    whether the set up to the next member failed (push landing only knows all-or-nothing)."""

    passed_prefix: int
    failed: bool


def start(members: tuple[int, ...]) -> BisectState:
    """A run over ``members`` (queue order); its first test is the whole batch."""
    return BisectState(pending=tuple(dict.fromkeys(members)))


def next_test(state: BisectState) -> Trial | None:
    """The next test to run, or None when every member is landed or a culprit."""
    search = state.search
    if search is not None:
        if search.low < 0:
            return Trial(members=(search.suspect,), probe=True)
        middle = (search.low + search.high) // 2
        return Trial(members=(*state.landed[:middle], search.suspect), probe=True)
    if not state.pending:
        return None
    if state.known_failing is None:
        return Trial(members=state.pending)
    return Trial(members=state.pending[: max(1, state.known_failing // 2)])


def next_tests(state: BisectState, width: int) -> tuple[Trial, ...]:
    """The tests to run side by side now: an isolation round of up to ``width`` trials when
    the whole pending set failed, a prefix round once isolation could not settle it, else the
    one test of ``next_test`` (or none: done)."""
    omissions = _untested_omissions(state)
    if width >= 2 and omissions:
        return tuple(
            Trial(members=tuple(i for i in state.pending if i != omitted), omitted=omitted)
            for omitted in omissions[:width]
        )
    lengths = _prefix_lengths(state, width)
    if lengths:
        return tuple(Trial(members=state.pending[:n], prefix=True) for n in lengths)
    plan = next_test(state)
    return () if plan is None else (plan,)


def _untested_omissions(state: BisectState) -> tuple[int, ...]:
    """Members whose leave-one-out trial is still to run (latest in queue order first)."""
    size = len(state.pending)
    if state.search is not None or size < 2 or state.known_failing != size:
        return ()
    isolation = state.isolation or Isolation()
    if isolation.exhausted or isolation.passed:
        return ()
    tried = set(isolation.failed)
    return tuple(i for i in reversed(state.pending) if i not in tried)


def _prefix_lengths(state: BisectState, width: int) -> tuple[int, ...]:
    """Prefix lengths to test side by side when ``pending[:known_failing]`` fails and
    isolation cannot settle it (up to ``width``, evenly spread over the failing set)."""
    known = state.known_failing
    if width < 2 or state.search is not None or known is None or known < 2:
        return ()
    isolation = state.isolation
    if known == len(state.pending) and not (isolation and isolation.exhausted):
        return ()
    count = min(width, known - 1)
    return tuple(sorted({max(1, round(k * (known - 1) / count)) for k in range(1, count + 1)}))


def record_prefixes(
    state: BisectState, results: tuple[tuple[int, bool], ...]
) -> tuple[BisectState, Trial | None]:
    """Learn from a finished prefix round: ``(prefix length, passed)`` per trial.

    The longest passing prefix is landed (returned); the member right after it is a culprit
    when the prefix one longer failed (``landed + it`` fails, ``landed`` passes), else the
    failing set shrinks to the untested gap and the next round looks there."""
    known = state.known_failing or len(state.pending)
    passed = max((n for n, ok in results if ok), default=0)
    failing = min((n for n, ok in results if not ok and n > passed), default=known)
    update: dict[str, object] = {"tests": state.tests + len(results), "isolation": None}
    pending = state.pending
    if failing == passed + 1:
        culprit = pending[passed]
        update["culprits"] = (*state.culprits, Culprit(iid=culprit))
        update["pending"] = tuple(i for i in pending if i != culprit)
        update["known_failing"] = None
    else:
        update["known_failing"] = failing - passed  # on top of the landed prefix
    landing = Trial(members=pending[:passed], prefix=True) if passed else None
    return state.model_copy(update=update), landing


def record_isolation(
    state: BisectState, results: tuple[tuple[int, bool], ...]
) -> tuple[BisectState, Trial | None]:
    """Learn from a finished isolation round: ``(omitted member, trial passed)`` per trial.

    Returns the new state and the trial to land now (None: no omission passed; the next
    round tries the others, or halving takes over once all failed). When one or two
    omissions passed, the latest of them in queue order is a culprit at once (two: a pair
    failing only together, the other named as partner); when more passed, the set's failure
    was not theirs (a flake, or all of them together) and the member left out is tried again
    after the landing. The landing itself is recorded by ``record_side_landed``."""
    isolation = state.isolation or Isolation()
    passed = [i for i, ok in results if ok and i in state.pending and i not in isolation.passed]
    failed = [i for i, ok in results if not ok and i in state.pending and i not in isolation.failed]
    isolation = isolation.model_copy(
        update={
            "passed": (*isolation.passed, *passed),
            "failed": (*isolation.failed, *failed),
        }
    )
    update: dict[str, object] = {"isolation": isolation, "tests": state.tests + len(results)}
    if not isolation.passed:
        update["isolation"] = isolation.model_copy(
            update={"exhausted": set(isolation.failed) >= set(state.pending)}
        )
        return state.model_copy(update=update), None
    left_out = max(isolation.passed, key=state.pending.index)  # the latest in queue order
    landing = Trial(members=tuple(i for i in state.pending if i != left_out), omitted=left_out)
    if len(isolation.passed) <= 2:
        partners = tuple(i for i in isolation.passed if i != left_out)
        update["pending"] = landing.members
        update["known_failing"] = None
        update["culprits"] = (*state.culprits, Culprit(iid=left_out, partners=partners))
    return state.model_copy(update=update), landing


def without_partner_search(state: BisectState) -> BisectState:
    """Conclude a suspect at once instead of probing for its partner (the probes, one CI
    round each, only name the partner; the suspect is the culprit either way: it breaks what
    landed before it). Used when tests run side by side."""
    if state.search is None:
        return state
    return _conclude(state, Culprit(iid=state.search.suspect))


def record_side_landed(state: BisectState, plan: Trial) -> BisectState:
    """The side-by-side trial ``plan`` its round picked landed: its members are landed. What
    is left pending is tried again on the new target (after a prefix, the failing set the
    round narrowed down stays known)."""
    landed = tuple(i for i in state.pending if i in plan.members)
    return state.model_copy(
        update={
            "landed": state.landed + landed,
            "pending": tuple(i for i in state.pending if i not in plan.members),
            "known_failing": state.known_failing if plan.prefix else None,
            "isolation": None,
        }
    )


def record(state: BisectState, plan: Trial, outcome: TrialOutcome) -> BisectState:
    """Learn from a finished test. A plan that no longer matches the state is ignored."""
    if plan != next_test(state):
        return state
    state = state.model_copy(update={"tests": state.tests + 1})
    if plan.probe:
        failed = outcome.failed or outcome.passed_prefix < len(plan.members)
        return _record_probe(state, failed)
    return _record_landing_test(state, plan, outcome)


def _record_landing_test(state: BisectState, plan: Trial, outcome: TrialOutcome) -> BisectState:
    size = len(plan.members)
    passed = size if not outcome.failed else min(max(outcome.passed_prefix, 0), size - 1)
    landed = state.landed + state.pending[:passed]
    pending = state.pending[passed:]
    if outcome.failed:
        known: int | None = size - passed
    elif state.known_failing is not None and state.known_failing > size:
        known = state.known_failing - size  # the same failing set, minus what just landed
    else:
        known = None
    state = state.model_copy(update={"landed": landed, "pending": pending, "known_failing": known})
    return _suspect_found(state) if known == 1 else state


def _suspect_found(state: BisectState) -> BisectState:
    """``landed + pending[0]`` failed while ``landed`` passed: pending[0] is a culprit."""
    suspect = state.pending[0]
    if not state.landed:
        return _conclude(state, Culprit(iid=suspect))
    search = PartnerSearch(suspect=suspect, low=-1, high=len(state.landed))
    return state.model_copy(update={"search": search})


def _record_probe(state: BisectState, failed: bool) -> BisectState:
    search = state.search
    if search is None:  # pragma: no cover - guarded by the plan check in record()
        return state
    if search.low < 0:
        if failed:
            return _conclude(state, Culprit(iid=search.suspect))
        search = search.model_copy(update={"low": 0})
    else:
        middle = (search.low + search.high) // 2
        update = {"high": middle} if failed else {"low": middle}
        search = search.model_copy(update=update)
    if search.high - search.low <= 1:
        partner = state.landed[search.high - 1]
        return _conclude(state, Culprit(iid=search.suspect, partners=(partner,)))
    return state.model_copy(update={"search": search})


def _conclude(state: BisectState, culprit: Culprit) -> BisectState:
    pending = tuple(iid for iid in state.pending if iid != culprit.iid)
    return state.model_copy(
        update={
            "pending": pending,
            "culprits": (*state.culprits, culprit),
            "known_failing": None,
            "search": None,
        }
    )


def drop(state: BisectState, iid: int) -> BisectState:
    """Take ``iid`` out of the run (closed, pushed, conflicting); landed members stay."""
    if iid not in state.pending:
        return state
    index = state.pending.index(iid)
    known = state.known_failing
    if known is not None and index < known:
        known = None  # the failing set we knew of no longer exists
    search = state.search
    if search is not None and search.suspect == iid:
        search = None
    pending = tuple(member for member in state.pending if member != iid)
    update = {"pending": pending, "known_failing": known, "search": search, "isolation": None}
    return state.model_copy(update=update)


def is_done(state: BisectState) -> bool:
    """Every member is landed or a culprit (or was dropped)."""
    return next_test(state) is None
