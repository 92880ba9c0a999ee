"""An MR changing a file someone else checked out in the vault is held: one comment naming
the holder, no strike, and it goes ahead once the lock is gone."""

from __future__ import annotations

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import FileLock
from merge_assist.merging.engine.state import Phase
from tests.merging.engine.factories import empty_state, observe, of_kind, snapshot, step

SINGLE = EngineConfig(strategy="single", max_rejections=1)
LOCK = FileLock(path="cnc/part.mcam", holder="bob")


def test_a_locked_file_holds_the_mr_with_one_comment_and_no_strike() -> None:
    mr = snapshot(1, author="alice", files_changed=("cnc/part.mcam", "README.md"))
    held = step(empty_state(), observe(mr, locks=(LOCK,)), SINGLE)
    queued = held.state.merge_request(1)
    assert queued is not None
    assert (queued.phase, queued.strikes) == (Phase.NOT_READY, 0)
    (comment,) = of_kind(held, "post_comment")
    assert comment.template == "held"
    assert "`cnc/part.mcam` is checked out in the vault by @bob" in comment.body
    assert of_kind(held, "unassign") == []  # max_rejections 1, yet not rejected

    again = step(held.state, observe(mr, locks=(LOCK,)), SINGLE)
    assert of_kind(again, "post_comment") == []  # said once
    assert again.state.merge_request(1).strikes == 0  # type: ignore[union-attr]

    released = step(again.state, observe(mr), SINGLE)
    assert released.state.merge_request(1).phase in (Phase.READY, Phase.MERGING)  # type: ignore[union-attr]


def test_the_holder_changing_their_own_file_is_not_held() -> None:
    mr = snapshot(1, author="bob", files_changed=("cnc/part.mcam",))
    decision = step(empty_state(), observe(mr, locks=(LOCK,)), SINGLE)
    assert decision.state.merge_request(1).phase != Phase.NOT_READY  # type: ignore[union-attr]
