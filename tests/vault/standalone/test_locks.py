"""GitLabLockStore against the GitLab sandbox over HTTP: GitLab arbitrates every check-out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab import GitLabClient, GitLabForbidden
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.errors import Unprocessable
from merge_assist.standalone.shared_json import SharedJsonDocument
from merge_assist.vault.standalone.locks import (
    GitLabLockStore,
    Lock,
    LockHeld,
    LockNotYours,
    NotLocked,
    clean_reason,
)
from tests.standalone.shared_project import PROJECT, unique
from tests.vault.standalone.conftest import lock_store


async def test_fifty_concurrent_check_outs_from_two_instances_have_one_winner(
    alice: GitLabClient, bob: GitLabClient
) -> None:
    reasons = unique("locks")
    first, second = lock_store(alice, reasons), lock_store(bob, reasons)
    path = f"parts/{unique('race')}.mcam"
    attempts = [
        (first if n % 2 else second).acquire(path, f"attempt {n}", base_version=f"v{n}")
        for n in range(50)
    ]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, Lock)]
    refused = [o for o in outcomes if isinstance(o, LockHeld)]
    assert len(winners) == 1, outcomes
    assert len(refused) == 49, [o for o in outcomes if not isinstance(o, Lock | LockHeld)]
    winner = winners[0]
    assert winner.holder_name in {"Alice Archer", "Bob Baker"}
    assert {r.holder_name for r in refused} == {winner.holder_name}
    assert all(r.status_code == 409 and r.lock.lock_id == winner.lock_id for r in refused)
    assert all(winner.holder_name in r.message for r in refused)
    # After the race the reason is shared: both instances see it.
    for store in (first, second):
        held = await store.holder(path)
        assert held is not None
        assert (held.reason, held.lock_id) == (winner.reason, winner.lock_id)
        assert held.base_version == winner.base_version
    with pytest.raises(LockHeld) as late:
        await second.acquire(path, "one more try")
    assert late.value.reason == winner.reason
    assert late.value.since == winner.since
    assert late.value.details["holder"]["name"] == winner.holder_name


async def test_release_by_the_holder_and_refused_for_another(
    alice: GitLabClient, bob: GitLabClient
) -> None:
    reasons = unique("locks")
    mine, theirs = lock_store(alice, reasons), lock_store(bob, reasons)
    path = f"parts/{unique('gear')}.mcam"
    lock = await mine.acquire(path, "  new   fixture\n offsets ")
    assert lock.reason == "new fixture offsets"
    assert lock.holder_username == "alice"
    assert lock.mine is True
    with pytest.raises(LockNotYours) as refused:
        await theirs.release(path)
    assert refused.value.status_code == 403
    assert "Alice Archer" in refused.value.message
    with pytest.raises(LockNotYours) as not_maintainer:
        await theirs.release(path, force=True)
    assert "Maintainer" in not_maintainer.value.message
    assert (await theirs.holder(path)) is not None
    released = await mine.release(path)
    assert (released.lock_id, released.reason) == (lock.lock_id, "new fixture offsets")
    assert await theirs.holder(path) is None
    # The reason went with the lock: nothing stale is left in the shared document.
    assert (await mine.reasons.read()).data["locks"] == {}
    with pytest.raises(NotLocked):
        await mine.release(path)
    again = await theirs.acquire(path, "my turn")
    assert again.holder_name == "Bob Baker"


async def test_a_maintainer_forces_a_lock_open(alice: GitLabClient, carol: GitLabClient) -> None:
    reasons = unique("locks")
    holder, maintainer = lock_store(alice, reasons), lock_store(carol, reasons)
    path = f"parts/{unique('forced')}.mcam"
    await holder.acquire(path, "went on holiday with it")
    with pytest.raises(LockNotYours):
        await maintainer.release(path)
    forced = await maintainer.release(path, force=True)
    assert forced.holder_name == "Alice Archer"
    assert forced.reason == "went on holiday with it"
    assert await holder.holder(path) is None


async def test_list_marks_own_locks_and_keeps_reasons(
    alice: GitLabClient, bob: GitLabClient
) -> None:
    reasons = unique("locks")
    first, second = lock_store(alice, reasons), lock_store(bob, reasons)
    a_path, b_path = f"parts/{unique('a')}.nc", f"parts/{unique('b')}.nc"
    await first.acquire(a_path, "reason a")
    await second.acquire(b_path, "reason b", base_version="abc123")
    seen = {lock.path: lock for lock in await first.list()}
    assert (seen[a_path].mine, seen[a_path].reason) == (True, "reason a")
    assert (seen[b_path].mine, seen[b_path].reason) == (False, "reason b")
    assert seen[b_path].base_version == "abc123"
    rebased = await second.rebase(b_path, "def456")
    assert rebased.base_version == "def456"
    assert (await first.holder(b_path)) == Lock(
        lock_id=rebased.lock_id,
        path=b_path,
        holder_name="Bob Baker",
        since=rebased.since,
        reason="reason b",
        holder_username="bob",
        base_version="def456",
        mine=False,
    )
    await first.release(a_path)
    await second.release(b_path)


async def test_a_forged_reason_entry_is_not_believed(
    alice: GitLabClient, bob: GitLabClient
) -> None:
    reasons = unique("locks")
    store = lock_store(alice, reasons)
    path = f"parts/{unique('forged')}.mcam"
    lock = await store.acquire(path, "real reason")

    def forge(doc: dict[str, Any]) -> None:
        doc["locks"][lock.lock_id].update(holder_name="Bob Baker", reason="forged")

    await lock_store(bob, reasons).reasons.update(forge, message="forge")
    held = await store.holder(path)
    assert held is not None
    assert (held.holder_name, held.reason, held.holder_username) == ("Alice Archer", "", None)
    await store.release(path)


async def test_a_reporter_cannot_lock(sandbox: RunningSandbox, alice: GitLabClient) -> None:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("rita"), retry=RetryPolicy(max_retries=0)
    ) as rita:
        store = lock_store(rita, unique("locks"))
        with pytest.raises(GitLabForbidden) as refused:
            await store.acquire("parts/gear.mcam", "just looking")
    assert refused.value.status == 403
    assert await lock_store(alice, unique("locks")).holder("parts/gear.mcam") is None


def test_reasons_are_required_and_bounded() -> None:
    assert clean_reason(" a\tb ") == "a b"
    with pytest.raises(Unprocessable):
        clean_reason(" \n ")
    with pytest.raises(Unprocessable):
        clean_reason("x" * 501)
    assert clean_reason("x" * 500) == "x" * 500


async def test_bad_reason_takes_no_lock(alice: GitLabClient) -> None:
    store = lock_store(alice, unique("locks"))
    path = f"parts/{unique('noreason')}.mcam"
    with pytest.raises(Unprocessable):
        await store.acquire(path, "")
    assert await alice.lfs_locks(PROJECT, path=path) == []


async def test_a_lock_whose_reason_cannot_be_shared_is_given_back(alice: GitLabClient) -> None:
    # Reasons pointed at the protected main branch: a developer's commit there is refused.
    reasons = SharedJsonDocument.in_state_folder(alice, PROJECT, unique("locks"), branch="main")
    store = GitLabLockStore(alice, PROJECT, reasons)
    path = f"parts/{unique('unexplained')}.mcam"
    with pytest.raises(GitLabForbidden):
        await store.acquire(path, "cannot be recorded")
    assert await alice.lfs_locks(PROJECT, path=path) == []
