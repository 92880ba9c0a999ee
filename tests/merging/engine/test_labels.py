"""Bot labels per phase, with configurable names; other labels are never touched."""

from __future__ import annotations

from merge_assist.merging.engine.config import LabelNames
from merge_assist.merging.engine.labels import label_changes, labels_for
from merge_assist.merging.engine.state import Phase

NAMES = LabelNames(not_ready="MA: not ready", recognized="MA: queued")


def test_phases_map_to_one_label_each() -> None:
    assert labels_for(Phase.READY) == ("recognized",)
    assert labels_for(Phase.WAITING) == ("recognized",)
    assert labels_for(Phase.NOT_READY) == ("not_ready",)
    assert labels_for(Phase.MERGING) == ("ready_to_merge",)
    assert labels_for(Phase.MERGED) == ()


def test_changes_add_missing_and_remove_other_bot_labels_only() -> None:
    present = ["MA: queued", "backend", "Merge Assist: Rejected"]
    add, remove = label_changes(present, ("not_ready",), NAMES)
    assert add == ("MA: not ready",)
    assert remove == ("MA: queued", "Merge Assist: Rejected")
    assert label_changes(["MA: not ready"], ("not_ready",), NAMES) == ((), ())


def test_names_and_keys_round_trip() -> None:
    assert NAMES.key_of("MA: queued") == "recognized"
    assert NAMES.key_of("backend") is None
    assert NAMES.name("batch_mr") == "Merge Assist: Batch Merge Request"
