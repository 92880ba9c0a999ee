"""``GitLabQueuePort.perform`` against the sandbox: every action, and every action twice.

Performing an action a second time (a worker that died before storing its state) must leave
GitLab exactly as performing it once. Each test works on its own MRs of a shared sandbox.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gitlab_sandbox.git.objects import RefMoved
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import GitLabUnavailable
from merge_assist.gitlab.models import CommitAction, MergeRequest
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.comments import render, with_marker
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import (
    BatchBuildResult,
    BatchMRResult,
    MergeResult,
    PipelineResult,
    PushResult,
    RebaseResult,
)
from tests.merging.adapter.driver import BOT, PROJECT, SHARED_FILE, TARGET, queue_scenario
from tests.merging.adapter.sandbox_queue import open_port

CONFIG = EngineConfig(strategy="batch")
PREFIX = CONFIG.batch_branch_prefix
_branch_numbers = itertools.count(100)


def scenario() -> dict[str, Any]:
    data = queue_scenario(18, broken=frozenset(), conflicting=(9, 10), unassigned=frozenset({3}))
    mrs = data["projects"][0]["merge_requests"]
    mrs[10]["draft"] = True  # !11
    mrs[11]["assignees"] = [BOT, "alice"]  # !12
    mrs[11]["reviewers"] = [BOT, "root"]
    return data


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(scenario()) as running:
        yield running


@pytest.fixture
async def port(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[GitLabQueuePort]:
    async with open_port(sandbox, tmp_path, CONFIG) as opened:
        yield opened


@pytest.fixture
async def root(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as client:
        yield client


async def twice(port: GitLabQueuePort, action: act.Action) -> tuple[Any, Any]:
    return await port.perform(action), await port.perform(action)


async def move_main(root: GitLabClient, path: str, content: str = "moved\n") -> str:
    commit = await root.create_commit(
        PROJECT,
        TARGET,
        f"Touch {path}",
        [CommitAction(action="create", file_path=path, content=content)],
    )
    return commit.id


async def head_of(client: GitLabClient, branch: str) -> str:
    found = await client.get_branch(PROJECT, branch)
    assert found.commit is not None
    return found.commit.id


async def test_labels_are_added_and_removed_once(port: GitLabQueuePort, root: GitLabClient) -> None:
    await twice(port, act.AddLabels(iid=1, labels=("queue-a", "queue-b")))
    assert {"queue-a", "queue-b"} <= set((await root.get_merge_request(PROJECT, 1)).labels)
    await twice(port, act.RemoveLabels(iid=1, labels=("queue-a",)))
    labels = (await root.get_merge_request(PROJECT, 1)).labels
    assert "queue-a" not in labels
    assert labels.count("queue-b") == 1


async def test_a_comment_is_posted_once(port: GitLabQueuePort, root: GitLabClient) -> None:
    key = "1:abc:not_ready"
    body = with_marker(render("not_ready", {"reasons": "- draft"}), key)
    comment = act.PostComment(iid=1, template="not_ready", params=(), comment_key=key, body=body)
    await twice(port, comment)
    notes = [n.body for n in await root.mr_notes(PROJECT, 1) if key in n.body]
    assert notes == [body]


async def test_a_comment_reads_only_the_newest_page_of_notes(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    for n in range(120):  # a long thread: more than one page of notes
        await root.create_note(PROJECT, 2, f"chatter {n}")
    key = "2:abc:not_ready"
    body = with_marker(render("not_ready", {"reasons": "- draft"}), key)
    comment = act.PostComment(iid=2, template="not_ready", params=(), comment_key=key, body=body)
    before = port.client.calls["mr.notes"]
    await twice(port, comment)
    assert port.client.calls["mr.notes"] - before == 2  # one page per try, not the thread
    notes = [n.body for n in await root.mr_notes(PROJECT, 2) if key in n.body]
    assert notes == [body]


async def test_unassign_removes_only_the_bot(port: GitLabQueuePort, root: GitLabClient) -> None:
    await twice(port, act.Unassign(iid=12))
    mr = await root.get_merge_request(PROJECT, 12)
    assert [u.username for u in mr.assignees] == ["alice"]
    assert [u.username for u in mr.reviewers] == ["root"]


async def test_a_rebase_moves_the_mr_onto_the_target_once(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    await move_main(root, "rebase-base.txt")
    before = await root.get_merge_request(PROJECT, 5)
    onto = await head_of(root, TARGET)
    rebase = act.Rebase(iid=5, expected_head_sha=before.sha or "", onto_sha=onto)
    # GitLab shows the rebased head on the MR a moment after its rebase ends (PostReceive):
    # until then the action says "in progress" and never rebases again.
    early = await port.perform(rebase)
    await asyncio.to_thread(sandbox.catch_up)
    first, second = await twice(port, rebase)
    assert isinstance(early, RebaseResult)
    assert early.status in ("in_progress", "done")
    assert isinstance(first, RebaseResult)
    assert first.status == "done"
    assert first.new_sha not in (None, before.sha)
    assert second == first  # already on the target: no second rebase
    assert port.client.calls["mr.rebase"] == 1
    after = await root.get_merge_request(PROJECT, 5)
    assert after.sha == first.new_sha
    assert after.diff_refs is not None
    assert after.diff_refs.base_sha == onto


async def test_a_slow_rebase_is_in_progress_then_done_without_a_second_rebase(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    onto = await move_main(root, "rebase-slow.txt")
    before = await root.get_merge_request(PROJECT, 16)
    rebase = act.Rebase(iid=16, expected_head_sha=before.sha or "", onto_sha=onto)
    port.rebase_wait = replace(port.rebase_wait, max_seconds=0.2)
    sandbox.faults(slow_rebase_seconds=3600)
    try:
        first, second = await twice(port, rebase)
    finally:
        sandbox.faults(slow_rebase_seconds=0)
    assert (first.status, second.status) == ("in_progress", "in_progress")
    assert port.client.calls["mr.rebase"] == 1  # the second one waited for the first
    sandbox.advance_clock(3600)
    await asyncio.to_thread(sandbox.catch_up)  # the rebase ended; the MR shows its new head
    port.rebase_wait = replace(port.rebase_wait, max_seconds=20.0)
    done = await port.perform(rebase)
    assert isinstance(done, RebaseResult)
    assert done.status == "done"
    assert done.new_sha not in (None, before.sha)
    assert port.client.calls["mr.rebase"] == 1


async def test_a_rebase_of_a_head_that_moved_is_not_done(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    onto = await move_main(root, "rebase-moved.txt")
    before = await root.get_merge_request(PROJECT, 8)
    rebase = act.Rebase(iid=8, expected_head_sha="a" * 40, onto_sha=onto)
    result = await port.perform(rebase)
    assert isinstance(result, RebaseResult)
    assert result.status == "in_progress"
    assert (await root.get_merge_request(PROJECT, 8)).sha == before.sha


async def test_a_rebase_with_conflicts_reports_conflict(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    commit = await root.create_commit(
        PROJECT,
        TARGET,
        "Edit the shared file",
        [CommitAction(action="update", file_path=SHARED_FILE, content="main disagrees\n")],
    )
    before = await root.get_merge_request(PROJECT, 9)
    rebase = act.Rebase(iid=9, expected_head_sha=before.sha or "", onto_sha=commit.id)
    first, second = await twice(port, rebase)
    assert isinstance(first, RebaseResult)
    assert (first.status, second.status) == ("conflict", "conflict")
    assert (await root.get_merge_request(PROJECT, 9)).sha == before.sha


async def build_of(
    root: GitLabClient, attempt_id: int, branch: str, base: str, *iids: int
) -> act.BuildBatch:
    members = []
    for iid in iids:
        mr = await root.get_merge_request(PROJECT, iid)
        members.append(act.BatchSource(iid=iid, source_sha=mr.sha or ""))
    return act.BuildBatch(
        attempt_id=attempt_id, branch=branch, base_sha=base, members=tuple(members)
    )


async def test_batch_build_mr_and_pipeline_are_idempotent(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    base = await head_of(root, TARGET)
    build = await build_of(root, 1, branch, base, 6, 7)
    first, second = await twice(port, build)
    assert isinstance(first, BatchBuildResult)
    assert first.status == "built"
    assert [(m.iid, m.status) for m in first.members] == [(6, "merged"), (7, "merged")]
    assert second == first  # built already: kept, nothing pushed again
    tested = await head_of(root, branch)
    assert tested == first.sha == first.members[-1].prefix_sha
    compare = await root.compare(PROJECT, base, tested)
    assert {d.new_path for d in compare.diffs} == {"src/mr6.txt", "src/mr7.txt"}
    # One push for the whole batch: GitLab ran one pipeline for the branch, on its head.
    on_branch = [p for p in await root.list_pipelines(PROJECT, ref=branch) if p.ref == branch]
    assert [p.sha for p in on_branch] == [tested]

    opened = act.CreateBatchMR(
        attempt_id=1,
        branch=branch,
        target_branch=TARGET,
        title="Batch",
        description="",
        labels=(CONFIG.labels.batch_mr,),
    )
    mr_first, mr_second = await twice(port, opened)
    assert isinstance(mr_first, BatchMRResult)
    assert mr_first.status == "created"
    assert mr_second == mr_first
    batch_mr = await root.get_merge_request(PROJECT, mr_first.iid or 0)
    assert CONFIG.labels.batch_mr in batch_mr.labels

    run = act.RunPipeline(attempt_id=1, ref=branch, sha=tested)
    p_first, p_second = await twice(port, run)
    assert isinstance(p_first, PipelineResult)
    assert p_first.status == "created"
    assert p_second == p_first
    assert len(await root.list_pipelines(PROJECT, sha=tested)) == 1

    await twice(port, act.CloseBatchMR(iid=mr_first.iid or 0))
    assert (await root.get_merge_request(PROJECT, mr_first.iid or 0)).state == "closed"
    await twice(port, act.DeleteBranch(branch=branch))
    assert not await root.list_branches(PROJECT, search=branch)


async def built_branch(
    port: GitLabQueuePort, root: GitLabClient, *, skip_ci: bool = False
) -> tuple[str, str]:
    """A new batch branch of !6 on the target, built by the port: (branch, tested sha)."""
    branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    build = await build_of(root, 1, branch, await head_of(root, TARGET), 6)
    built = await port.perform(build.model_copy(update={"skip_ci": skip_ci}))
    assert isinstance(built, BatchBuildResult)
    assert built.sha is not None
    return branch, built.sha


async def test_a_stopped_attempts_pipeline_is_cancelled_once_and_a_gone_one_is_fine(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    branch, tested = await built_branch(port, root)
    await asyncio.to_thread(sandbox.catch_up)  # the push pipeline starts a moment after
    (pipeline,) = [p for p in await root.list_pipelines(PROJECT, ref=branch) if p.ref == branch]
    cancel = act.CancelPipeline(pipeline_id=pipeline.id, sha=tested)
    assert await twice(port, cancel) == (None, None)
    after = await root.get_pipeline(PROJECT, pipeline.id)
    assert after.status in ("canceling", "canceled")
    assert await port.perform(act.CancelPipeline(pipeline_id=999_999, sha=tested)) is None
    await port.perform(act.DeleteBranch(branch=branch))


async def test_a_pipeline_not_seen_yet_is_cancelled_by_the_sha_and_branch_of_its_attempt(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    branch, tested = await built_branch(port, root)
    await asyncio.to_thread(sandbox.catch_up)  # the push pipeline starts a moment after
    cancel = act.CancelPipeline(sha=tested, ref=branch)  # the engine never saw its id
    assert await twice(port, cancel) == (None, None)
    found = [p for p in await root.list_pipelines(PROJECT, ref=branch) if p.ref == branch]
    assert found
    assert {p.status for p in found} <= {"canceling", "canceled"}
    await port.perform(act.DeleteBranch(branch=branch))


async def test_a_batch_built_with_skip_ci_runs_no_push_pipeline_but_one_started_by_the_api(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    branch, tested = await built_branch(port, root, skip_ci=True)
    tip = await root.get_commit(PROJECT, tested)
    assert "[skip ci]" in tip.message
    await asyncio.to_thread(sandbox.catch_up)  # the (skipped) push pipeline is saved a moment after
    (pushed,) = await root.list_pipelines(PROJECT, sha=tested)
    assert pushed.status == "skipped"
    started = await port.perform(act.RunPipeline(attempt_id=1, ref=branch, sha=tested))
    assert isinstance(started, PipelineResult)
    assert started.pipeline_id != pushed.id
    newest = (await root.list_pipelines(PROJECT, sha=tested))[0]
    assert newest.id == started.pipeline_id
    assert newest.status not in ("skipped", "failed")
    await port.perform(act.DeleteBranch(branch=branch))


async def test_deleting_a_batch_branch_closes_its_forgotten_batch_mr(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    base = await head_of(root, TARGET)
    await root.create_branch(PROJECT, branch, base)
    await root.create_commit(
        PROJECT,
        branch,
        "Batch content",
        [CommitAction(action="create", file_path="b6.txt", content="6\n")],
    )
    opened = act.CreateBatchMR(
        attempt_id=6,
        branch=branch,
        target_branch=TARGET,
        title="Batch 6",
        description="",
        labels=(),
    )
    created = await port.perform(opened)  # its result is "lost": no CloseBatchMR follows
    assert isinstance(created, BatchMRResult)
    await twice(port, act.DeleteBranch(branch=branch))
    assert (await root.get_merge_request(PROJECT, created.iid or 0)).state == "closed"
    assert not await root.list_branches(PROJECT, search=branch)


async def test_a_conflicting_member_is_skipped_and_the_next_merged_on_top(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    scratch = f"scratch-{next(_branch_numbers)}"
    await root.create_branch(PROJECT, scratch, await head_of(root, TARGET))
    await root.create_commit(
        PROJECT,
        scratch,
        "Edit the shared file elsewhere",
        [CommitAction(action="update", file_path=SHARED_FILE, content="base disagrees\n")],
    )
    base = await head_of(root, scratch)  # !10 edits the shared file too: it conflicts here
    branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    first, second = await twice(port, await build_of(root, 2, branch, base, 10, 14))
    assert isinstance(first, BatchBuildResult)
    (clash, merged) = first.members
    assert (clash.iid, clash.status, clash.prefix_sha) == (10, "conflict", base)
    assert (merged.iid, merged.status) == (14, "merged")
    assert merged.prefix_sha == first.sha
    # A branch missing a member is built again (only a build tells a conflict from a build of
    # other members): the same outcome, and the branch holds the newest build.
    assert isinstance(second, BatchBuildResult)
    assert [(m.iid, m.status) for m in second.members] == [(10, "conflict"), (14, "merged")]
    assert await head_of(root, branch) == second.sha
    await port.perform(act.DeleteBranch(branch=branch))


async def test_branches_outside_the_batch_prefix_are_never_touched(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    with pytest.raises(ValueError, match="not under"):
        await port.perform(act.DeleteBranch(branch="topic-1"))
    with pytest.raises(ValueError, match="not under"):
        await port.perform(
            act.BuildBatch(attempt_id=3, branch=TARGET, base_sha="0" * 40, members=())
        )
    assert await head_of(root, "topic-1")


async def test_merge_is_pinned_to_the_sha_and_the_target(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    mr = await root.get_merge_request(PROJECT, 13)
    target = await head_of(root, TARGET)
    wrong_sha = await port.perform(act.MergeMR(iid=13, sha="f" * 40, expected_target_sha=target))
    assert isinstance(wrong_sha, MergeResult)
    assert wrong_sha.status == "sha_mismatch"
    moved = await port.perform(act.MergeMR(iid=13, sha=mr.sha or "", expected_target_sha="e" * 40))
    assert isinstance(moved, MergeResult)
    assert moved.status == "target_moved"
    assert (await root.get_merge_request(PROJECT, 13)).state == "opened"
    merge = act.MergeMR(iid=13, sha=mr.sha or "", expected_target_sha=target)
    first, second = await twice(port, merge)
    assert isinstance(first, MergeResult)
    assert first.status == "merged"
    assert second == first  # merged already: reported, not merged again
    assert await head_of(root, TARGET) == first.merge_sha


async def checked(sandbox: RunningSandbox, root: GitLabClient, iid: int) -> MergeRequest:
    """The MR once GitLab has caught up with the last push and checked it (a GET asks)."""
    await asyncio.to_thread(sandbox.catch_up)
    await root.get_merge_request(PROJECT, iid)
    await asyncio.to_thread(sandbox.catch_up, 3)
    return await root.get_merge_request(PROJECT, iid)


async def test_gitlab_refusals_are_not_mergeable(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    """405 on an MR GitLab has checked is ``not_mergeable`` (one still checking is ``failed``:
    ``test_merge_action.py``)."""
    draft = await checked(sandbox, root, 11)
    refused = await port.perform(act.MergeMR(iid=11, sha=draft.sha or "", expected_target_sha=None))
    assert isinstance(refused, MergeResult)
    assert refused.status == "not_mergeable"
    # !10 conflicts with main (the shared file): GitLab 16+ answers 405, as for a draft.
    await root.create_commit(
        PROJECT,
        TARGET,
        "Edit the shared file again",
        [CommitAction(action="update", file_path=SHARED_FILE, content="main again\n")],
    )
    clash = await checked(sandbox, root, 10)
    conflict = await port.perform(
        act.MergeMR(iid=10, sha=clash.sha or "", expected_target_sha=None)
    )
    assert isinstance(conflict, MergeResult)
    assert conflict.status == "not_mergeable"
    assert (await root.get_merge_request(PROJECT, 10)).state == "opened"


async def test_a_merge_failing_once_accepted_is_a_race_not_a_block(
    port: GitLabQueuePort, root: GitLabClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab 16+ answers 422 when the merge itself fails (lib/api/merge_requests.rb): the
    queue tries again (``failed``) or re-tests (``target_moved``), never blocks the MR."""
    original = BareRepo.set_branch
    rewound: list[tuple[BareRepo, str]] = []
    push_meanwhile: list[bool] = []

    def refused(self: BareRepo, name: str, sha: str, *, expected_old: str | None = None) -> None:
        if name != TARGET:
            original(self, name, sha, expected_old=expected_old)
            return
        if push_meanwhile and not rewound and expected_old is not None:
            parent = self.commit(expected_old).parent_ids[0]
            original(self, name, parent, expected_old=expected_old)  # a push meanwhile
            rewound.append((self, expected_old))
        raise RefMoved(f"{name} moved")

    monkeypatch.setattr(BareRepo, "set_branch", refused)
    target = await head_of(root, TARGET)
    mr = await root.get_merge_request(PROJECT, 6)
    failed = await port.perform(act.MergeMR(iid=6, sha=mr.sha or "", expected_target_sha=target))
    assert isinstance(failed, MergeResult)
    assert failed.status == "failed"
    assert "cannot be merged" in failed.message
    push_meanwhile.append(True)
    moved = await port.perform(act.MergeMR(iid=6, sha=mr.sha or "", expected_target_sha=target))
    assert isinstance(moved, MergeResult)
    assert moved.status == "target_moved"
    monkeypatch.undo()
    repo, tip = rewound[0]
    repo.set_branch(TARGET, tip)  # put the target back for the other tests
    assert await head_of(root, TARGET) == target
    assert (await root.get_merge_request(PROJECT, 6)).state == "opened"


async def test_push_target_is_a_compare_and_swap(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    base = await head_of(root, TARGET)
    built = await port.perform(await build_of(root, 4, branch, base, 14))
    assert isinstance(built, BatchBuildResult)
    tested = built.sha or ""
    stale = await port.perform(
        act.PushTarget(attempt_id=4, target_branch=TARGET, sha=tested, expected_old_sha="d" * 40)
    )
    assert isinstance(stale, PushResult)
    assert (stale.status, stale.new_sha) == ("stale", base)
    assert await head_of(root, TARGET) == base
    push = act.PushTarget(attempt_id=4, target_branch=TARGET, sha=tested, expected_old_sha=base)
    first, second = await twice(port, push)
    assert first == second == PushResult(attempt_id=4, status="pushed", new_sha=tested)
    assert await head_of(root, TARGET) == tested
    await asyncio.to_thread(sandbox.catch_up)  # GitLab marks it merged a moment after the push
    assert (await root.get_merge_request(PROJECT, 14)).state == "merged"
    await port.perform(act.DeleteBranch(branch=branch))


async def test_a_replayed_push_of_a_car_the_next_car_landed_on_is_a_landing(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    base = await head_of(root, TARGET)
    first_branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    first = await port.perform(await build_of(root, 7, first_branch, base, 17))
    assert isinstance(first, BatchBuildResult)
    assert first.sha is not None
    second_branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    second = await port.perform(await build_of(root, 8, second_branch, first.sha, 18))
    assert isinstance(second, BatchBuildResult)
    assert second.sha is not None
    push_first = act.PushTarget(
        attempt_id=7, target_branch=TARGET, sha=first.sha, expected_old_sha=base
    )
    push_second = act.PushTarget(
        attempt_id=8, target_branch=TARGET, sha=second.sha, expected_old_sha=first.sha
    )
    assert (await port.perform(push_first)).status == "pushed"
    assert (await port.perform(push_second)).status == "pushed"
    # the worker died before storing the first landing: its replay finds the second on top
    replay = await port.perform(push_first)
    assert replay == PushResult(attempt_id=7, status="pushed", new_sha=first.sha)
    assert await head_of(root, TARGET) == second.sha
    unrelated = act.PushTarget(
        attempt_id=9, target_branch=TARGET, sha=base, expected_old_sha="c" * 40
    )
    assert (await port.perform(unrelated)).status == "stale"  # an older commit is no landing
    for branch in (first_branch, second_branch):
        await port.perform(act.DeleteBranch(branch=branch))


async def test_runner_actions_are_refused(port: GitLabQueuePort) -> None:
    with pytest.raises(ValueError, match="runner"):
        await port.perform(act.RecordHistory(event="merged", iids=(1,), record_key="k"))


async def test_git_failing_raises_for_the_runner(port: GitLabQueuePort, root: GitLabClient) -> None:
    branch = f"{PREFIX}/{TARGET}/{next(_branch_numbers)}"
    base = await head_of(root, TARGET)
    port.workspace.clone_url = "http://127.0.0.1:9/nowhere.git"  # nothing listens there
    build = act.BuildBatch(
        attempt_id=5,
        branch=branch,
        base_sha=base,
        members=(act.BatchSource(iid=15, source_sha=base),),
    )
    with pytest.raises(GitLabUnavailable, match="git"):
        await port.perform(build)
    with pytest.raises(ValueError, match="pushes `main` only"):
        await port.perform(
            act.PushTarget(attempt_id=5, target_branch="other", sha=base, expected_old_sha=base)
        )
    await port.perform(act.DeleteBranch(branch=branch))
