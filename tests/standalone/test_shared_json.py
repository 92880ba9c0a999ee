"""SharedJsonDocument against the GitLab sandbox: compare-and-swap commits lose no update."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab import GitLabClient, GitLabForbidden, GitLabNotFound
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.standalone.shared_json import (
    STATE_BRANCH,
    SharedJsonDocument,
    SharedStateBusy,
    SharedStateUnreadable,
)
from tests.standalone.shared_project import PROJECT, unique


def document(client: GitLabClient, name: str, **options: Any) -> SharedJsonDocument:
    return SharedJsonDocument.in_state_folder(client, PROJECT, name, **options)


async def test_twenty_concurrent_appends_from_two_instances_all_land(
    alice: GitLabClient, bob: GitLabClient
) -> None:
    name = unique("appends")
    first, second = document(alice, name), document(bob, name)

    async def append(doc: SharedJsonDocument, n: int) -> int:
        def change(data: dict[str, Any]) -> int:
            data.setdefault("items", []).append(n)
            return len(data["items"])

        return await doc.update(change, message=f"append {n}")

    positions = await asyncio.gather(*(append(first if n % 2 else second, n) for n in range(20)))
    assert sorted(positions) == list(range(1, 21))  # each saw a different base
    final = await first.read()
    assert sorted(final.data["items"]) == list(range(20))
    history = await alice.list_commits(PROJECT, ref_name=STATE_BRANCH, path=first.path)
    assert len(history) == 20
    assert {c.author_name for c in history} == {"Alice Archer", "Bob Baker"}


async def test_the_state_branch_is_created_from_the_default_branch(
    alice: GitLabClient,
) -> None:
    doc = document(alice, unique("fresh"))
    assert (await doc.read()).data == {}
    await doc.update(lambda data: data.update(hello="world"), message="first")
    snapshot = await doc.read()
    assert snapshot.data == {"hello": "world"}
    assert snapshot.exists
    assert snapshot.branch_exists
    # main (protected, maintainers only) is untouched: state lives on its own branch.
    with pytest.raises(GitLabNotFound):
        await alice.get_file(PROJECT, doc.path, ref="main")
    assert await alice.get_raw_file(PROJECT, "README.md", ref=STATE_BRANCH) == b"# parts\n"


async def test_an_unchanged_document_writes_nothing(alice: GitLabClient) -> None:
    doc = document(alice, unique("same"))
    assert await doc.update(lambda data: data.get("n"), message="read only") is None
    assert (await doc.read()).exists is False  # a change that changes nothing creates nothing
    await doc.update(lambda data: data.update(n=1), message="set")
    before = await doc.read()
    result = await doc.update(lambda data: data.get("n"), message="read only")
    assert result == 1
    assert (await doc.read()).version == before.version


async def test_a_failing_change_writes_nothing(alice: GitLabClient) -> None:
    doc = document(alice, unique("abort"))
    await doc.update(lambda data: data.update(n=1), message="set")
    before = await doc.read()

    def refuse(data: dict[str, Any]) -> None:
        data["n"] = 2
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await doc.update(refuse, message="never")
    assert (await doc.read()).data == {"n": 1}
    assert (await doc.read()).version == before.version


async def test_a_genuine_refusal_is_not_retried(sandbox: RunningSandbox) -> None:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("rita"), retry=RetryPolicy(max_retries=0)
    ) as rita:
        doc = document(rita, unique("reporter"))
        with pytest.raises(GitLabForbidden):
            await doc.update(lambda data: data.update(x=1), message="no push rights")
    assert rita.calls["commit.create"] == 1  # the file did not move: no second attempt


async def test_give_up_after_the_bounded_attempts(alice: GitLabClient, bob: GitLabClient) -> None:
    name = unique("busy")
    loser = document(alice, name, max_attempts=1)
    other = document(bob, name)
    await other.update(lambda data: data.update(n=0), message="start")

    def change(data: dict[str, Any]) -> None:
        # Someone else writes between our read and our commit: our base is stale.
        data["n"] = -1

    original_read = loser.read
    raced = False

    async def read_then_race() -> Any:
        nonlocal raced
        snapshot = await original_read()
        if not raced:
            raced = True
            await other.update(lambda data: data.update(n=data["n"] + 1), message="race")
        return snapshot

    loser.read = read_then_race  # type: ignore[method-assign]
    with pytest.raises(SharedStateBusy) as busy:
        await loser.update(change, message="lose")
    assert busy.value.status_code == 409
    assert (await other.read()).data == {"n": 1}


async def test_a_damaged_document_is_reported(alice: GitLabClient) -> None:
    doc = document(alice, unique("damaged"))
    await doc.update(lambda data: data.update(ok=True), message="set")
    snapshot = await doc.read()
    await alice.update_file(
        PROJECT,
        doc.path,
        b"[1, 2",
        branch=STATE_BRANCH,
        message="break it",
        last_commit_id=snapshot.last_commit_id,
    )
    with pytest.raises(SharedStateUnreadable, match="not valid JSON"):
        await doc.read()


async def test_paths_must_stay_inside_the_repository(alice: GitLabClient) -> None:
    for bad in ("", "/etc/passwd", "a/../../b.json"):
        with pytest.raises(ValueError, match="relative path"):
            SharedJsonDocument(alice, PROJECT, bad)
