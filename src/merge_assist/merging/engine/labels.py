"""Which bot labels an MR should carry in each phase, and the changes to get there (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from merge_assist.merging.engine.config import LabelKey, LabelNames
from merge_assist.merging.engine.state import Phase

# The labels the engine manages on queued MRs (batch_mr only ever sits on the batch MR).
MR_LABEL_KEYS: tuple[LabelKey, ...] = ("recognized", "not_ready", "rejected", "ready_to_merge")

_BY_PHASE: dict[Phase, tuple[LabelKey, ...]] = {
    Phase.WAITING: ("recognized",),
    Phase.READY: ("recognized",),
    Phase.NOT_READY: ("not_ready",),
    Phase.MERGING: ("ready_to_merge",),
    Phase.MERGED: (),
}

REJECTED: tuple[LabelKey, ...] = ("rejected",)
NO_LABELS: tuple[LabelKey, ...] = ()


def labels_for(phase: Phase) -> tuple[LabelKey, ...]:
    """The bot labels an MR in ``phase`` carries."""
    return _BY_PHASE[phase]


def label_changes(
    present: Iterable[str], desired: Iterable[LabelKey], names: LabelNames
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names to add, names to remove) so the MR's bot labels are exactly ``desired``.

    Labels that are not the engine's are never touched.
    """
    present_names = set(present)
    wanted = {names.name(key) for key in desired}
    ours = {names.name(key) for key in MR_LABEL_KEYS}
    add = tuple(sorted(wanted - present_names))
    remove = tuple(sorted((present_names & ours) - wanted))
    return add, remove
