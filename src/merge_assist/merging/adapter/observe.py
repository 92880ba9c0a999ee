"""Reading one (project, target branch) queue from GitLab: the half of the port that observes.

A step reads lists, not merge requests one by one: the target branch, the open MRs with the
bot as assignee and as reviewer (one page each up to 100), one listing of the MRs the state
mentions that those did not show (``iids[]``, any state), and the newest page of the
project's pipelines, matched to the head each tests (a merged results pipeline's merge
commit is read once to learn its head: ``head_pipelines``). A queue that did not change
costs those 4 or 5 calls whatever its length. What a list lacks is read once per head:
``diff_refs.base_sha`` (a ``GET`` of the MR; GitLab computes it per diff version, i.e. per
push or retarget) and the files changed. Approvals come from ``detailed_merge_status``
(``not_approved``), not from the approvals API. Cost table: ``docs/merge-engine.md``,
"Observing: GitLab calls per step".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import GitLabNotFound
from merge_assist.gitlab.inputs import MergeRequestQuery
from merge_assist.gitlab.models import MergeRequest, User
from merge_assist.merging.adapter.head_pipelines import MergedHeads, as_pipeline
from merge_assist.merging.engine.observations import (
    MergeRequestSnapshot,
    Observations,
    Pipeline,
    pipelines_by_head,
)
from merge_assist.merging.engine.state import TargetQueueState

UNKNOWN_SHA = "0" * 40
# At most this many MR reads run at once: GitLab rate limits, and the machine is shared.
CONCURRENT_READS = 4
MAX_CACHED_HEADS = 2000
PAGE = 100  # GitLab's largest page
HeadKey = tuple[str, str]  # (head sha, target branch): one diff version


@dataclass
class ObserverCache:
    """What the observer keeps between steps (all of it can be lost without harm)."""

    bot: User | None = None
    files_by_head: dict[str, tuple[str, ...]] = field(default_factory=dict)
    base_by_head: dict[HeadKey, str | None] = field(default_factory=dict)
    # The head each merged results pipeline's merge commit merged (``head_pipelines``).
    source_by_merge: dict[str, str | None] = field(default_factory=dict)

    def remember_files(self, head_sha: str, files: tuple[str, ...]) -> None:
        """Cache the files a head changes; bounded so a long-lived worker does not grow."""
        if len(self.files_by_head) >= MAX_CACHED_HEADS:
            self.files_by_head.clear()
        self.files_by_head[head_sha] = files

    def remember_base(self, head: HeadKey, base_sha: str | None) -> None:
        """Cache ``diff_refs.base_sha`` of a head (fixed until the next push or retarget)."""
        if len(self.base_by_head) >= MAX_CACHED_HEADS:
            self.base_by_head.clear()
        self.base_by_head[head] = base_sha


def mentioned_iids(state: TargetQueueState) -> set[int]:
    """Every MR the state refers to: queued, rejected, attempt members and batch MRs."""
    iids = {mr.iid for mr in state.merge_requests} | set(state.rejected)
    for attempt in state.attempts:
        iids |= {member.iid for member in attempt.members}
        if attempt.batch_mr_iid is not None:
            iids.add(attempt.batch_mr_iid)
    return iids


def tested_shas(state: TargetQueueState) -> set[str]:
    """The shas whose pipelines the engine waits for: attempt heads and tested trees (and
    the pipelines of stopped attempts it still has to cancel)."""
    shas: set[str] = set()
    for attempt in state.attempts:
        if not attempt.active:
            continue
        shas |= {sha for sha in (attempt.tested_sha, attempt.branch_sha) if sha}
        shas |= set(attempt.pipeline_requested)
    shas |= {pending.sha for pending in state.pending_cancels}  # to cancel once they show
    return shas


def _chunks(values: Sequence[int], size: int) -> list[Sequence[int]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


class QueueObserver:
    """Builds ``Observations`` for one project and target branch."""

    def __init__(
        self,
        client: GitLabClient,
        *,
        project_id: int,
        target_branch: str,
        bot_username: str,
        cache: ObserverCache | None = None,
    ) -> None:
        self.client = client
        self.project_id = project_id
        self.target_branch = target_branch
        self.bot_username = bot_username
        self.cache = cache or ObserverCache()
        self.merged_heads = MergedHeads(client, project_id, self.cache.source_by_merge)
        self._reads = asyncio.Semaphore(CONCURRENT_READS)

    async def bot(self) -> User:
        """The bot's GitLab user (read once: the client authenticates as the bot)."""
        if self.cache.bot is None:
            user = await self.client.find_user(self.bot_username)
            if user is None:
                raise GitLabNotFound(
                    f"The bot user {self.bot_username} does not exist on GitLab.",
                    status=404,
                    operation="user.find",
                )
            self.cache.bot = user
        return self.cache.bot

    async def observe(self, state: TargetQueueState) -> Observations:
        """The target head, every recognised or mentioned MR, and the pipelines being tested."""
        bot = await self.bot()
        target_sha = await self.target_head()
        listed = await self.recognised(bot)
        mentioned = mentioned_iids(state)
        found = {**await self.by_iids(mentioned - set(listed)), **listed}
        found |= await self.unabsorbed_batch_mrs(state, set(found))
        opened = [mr for mr in found.values() if mr.state == "opened" and mr.sha]
        await asyncio.gather(*(self._learn_head(mr) for mr in opened))
        known_heads = {mr.iid: mr.head_sha for mr in state.merge_requests}
        tested = tested_shas(state)
        pipelines = await self.pipelines(
            tested | {mr.sha for mr in opened if mr.sha},
            also=(mr.sha for mr in found.values() if mr.sha),
            heads={mr.iid: mr.sha for mr in opened if mr.sha},
        )
        await self._fork_pipelines(opened, pipelines)
        snapshots = [self._snapshot(mr, bot, pipelines) for mr in found.values()]
        snapshots += [
            self._missing(iid, known_heads.get(iid)) for iid in sorted(mentioned - set(found))
        ]
        return Observations(
            project_id=self.project_id,
            target_branch=self.target_branch,
            target_sha=target_sha,
            merge_requests=tuple(sorted(snapshots, key=lambda s: s.iid)),
            pipelines=tuple(pipelines[sha] for sha in sorted(tested) if sha in pipelines),
        )

    async def unabsorbed_batch_mrs(
        self, state: TargetQueueState, known: set[int]
    ) -> dict[int, MergeRequest]:
        """The MR of each tested attempt's branch whose iid the state does not hold (the step
        that learnt it, then merged it, was lost): merged at the tested head, it tells that
        the landing went through before GitLab marks the members merged. One listing per
        such attempt, usually for one step after each build."""
        found: dict[int, MergeRequest] = {}
        for attempt in state.attempts:
            if (
                not attempt.active
                or attempt.probe
                or attempt.hold
                or attempt.status != "testing"
                or attempt.batch_mr_iid is not None
                or attempt.branch is None
            ):
                continue
            listed = await self.client.list_merge_requests(
                self.project_id, MergeRequestQuery(source_branch=attempt.branch, state="all")
            )
            found |= {mr.iid: mr for mr in listed if mr.iid not in known}
        return found

    async def target_head(self) -> str | None:
        """The target branch's head sha (None when the branch does not exist)."""
        try:
            branch = await self.client.get_branch(self.project_id, self.target_branch)
        except GitLabNotFound:
            return None
        return branch.commit.id if branch.commit else None

    async def recognised(self, bot: User) -> dict[int, MergeRequest]:
        """Open MRs into the branch with the bot as assignee or reviewer (two listings)."""
        by_assignee, by_reviewer = await asyncio.gather(
            self.client.list_merge_requests(
                self.project_id,
                MergeRequestQuery(
                    target_branch=self.target_branch,
                    assignee_id=bot.id,
                    with_merge_status_recheck=True,
                ),
            ),
            self.client.list_merge_requests(
                self.project_id,
                MergeRequestQuery(
                    target_branch=self.target_branch,
                    reviewer_id=bot.id,
                    with_merge_status_recheck=True,
                ),
            ),
        )
        return {mr.iid: mr for mr in [*by_assignee, *by_reviewer]}

    async def by_iids(self, iids: Iterable[int]) -> dict[int, MergeRequest]:
        """MRs by iid whatever their state or target (one listing per 100; absent: deleted)."""
        found: dict[int, MergeRequest] = {}
        for chunk in _chunks(sorted(iids), PAGE):
            listed = await self.client.list_merge_requests(
                self.project_id,
                MergeRequestQuery(state="all", iids=chunk, with_merge_status_recheck=True),
            )
            found |= {mr.iid: mr for mr in listed if mr.iid in chunk}
        return found

    async def pipelines(
        self,
        needed: set[str],
        *,
        also: Iterable[str] = (),
        heads: Mapping[int, str] | None = None,
    ) -> dict[str, Pipeline]:
        """The pipeline GitLab counts for each head (``pipelines_by_head``): one page of the
        project's newest pipelines, then for each ``needed`` head that page did not reach a
        listing by sha and, for an open MR's head (``heads``: iid → head) that has none, a
        listing of its merge ref (``also``: heads looked up in that page only, e.g. of
        merged MRs). Merged
        results pipelines of the open MRs are tied to the head they merged."""
        heads = heads or {}
        page = await self.client.list_pipelines(self.project_id, limit=PAGE)
        seen = [p for p in map(as_pipeline, page) if p is not None]
        chosen = pipelines_by_head(await self.merged_heads.tie_heads(seen, heads))
        wanted = needed | set(also)
        found = {sha: pipeline for sha, pipeline in chosen.items() if sha in wanted}
        if len(page) < PAGE:
            return found  # the page holds every pipeline of the project
        missing = needed - set(found)
        for sha in sorted(missing):
            async with self._reads:
                listed = await self.client.list_pipelines(self.project_id, sha=sha, limit=5)
            seen += [p for p in (as_pipeline(i, sha) for i in listed) if p]
        unseen = missing - {p.sha for p in seen}
        for iid, head in sorted(heads.items()):
            if head in unseen:  # only a merged results pipeline may test it
                async with self._reads:
                    listed = await self.client.list_pipelines(
                        self.project_id, ref=f"refs/merge-requests/{iid}/merge", limit=5
                    )
                seen += [p for p in map(as_pipeline, listed) if p]
        chosen = pipelines_by_head(await self.merged_heads.tie_heads(seen, heads))
        return found | {sha: p for sha, p in chosen.items() if sha in missing}

    async def _learn_head(self, mr: MergeRequest) -> None:
        """Read what a list lacks for a head not seen before: its base and files changed."""
        head = (mr.sha or "", mr.target_branch)
        async with self._reads:
            if head not in self.cache.base_by_head:
                try:
                    detail = await self.client.get_merge_request(self.project_id, mr.iid)
                except GitLabNotFound:
                    return  # deleted since the listing: the next step reports it
                if detail.sha:
                    base = detail.diff_refs.base_sha if detail.diff_refs else None
                    self.cache.remember_base((detail.sha, detail.target_branch), base)
            if head[0] not in self.cache.files_by_head:
                diffs = await self.client.mr_changes(self.project_id, mr.iid)
                paths = {path for d in diffs for path in (d.old_path, d.new_path) if path}
                self.cache.remember_files(head[0], tuple(sorted(paths)))

    async def _fork_pipelines(
        self, opened: Iterable[MergeRequest], pipelines: dict[str, Pipeline]
    ) -> None:
        """Heads of MRs from forks whose pipeline ran in the fork (not in this project's
        list): their ``head_pipeline``, read from the MR each step."""
        forks = [
            mr
            for mr in opened
            if mr.source_project_id not in (None, self.project_id) and mr.sha not in pipelines
        ]
        for mr in forks:
            async with self._reads:
                try:
                    detail = await self.client.get_merge_request(self.project_id, mr.iid)
                except GitLabNotFound:
                    continue
            pipeline = as_pipeline(detail.head_pipeline, detail.sha)
            if pipeline is not None and detail.sha and detail.sha == mr.sha:
                pipeline = await self.merged_heads.tie(pipeline)
                if pipeline.tests(detail.sha):
                    pipelines[detail.sha] = pipeline

    def _snapshot(
        self, mr: MergeRequest, bot: User, pipelines: dict[str, Pipeline]
    ) -> MergeRequestSnapshot:
        opened = mr.state == "opened" and bool(mr.sha)
        head = (mr.sha or "", mr.target_branch)
        return snapshot_of(
            mr,
            bot,
            base_sha=self.cache.base_by_head.get(head) if opened else None,
            head_pipeline=pipelines.get(mr.sha or ""),
            files=self.cache.files_by_head.get(head[0], ()) if opened else (),
        )

    def _missing(self, iid: int, known_head: str | None) -> MergeRequestSnapshot:
        """An MR GitLab no longer has (deleted): reported closed, as a 404 was."""
        return MergeRequestSnapshot(
            iid=iid,
            target_branch=self.target_branch,
            head_sha=known_head or UNKNOWN_SHA,
            state="closed",
        )


def snapshot_of(
    mr: MergeRequest,
    bot: User,
    *,
    base_sha: str | None,
    head_pipeline: Pipeline | None,
    files: tuple[str, ...],
) -> MergeRequestSnapshot:
    """The engine's snapshot of a merge request as a list returns it (plus what was read
    once per head). ``approvals_left`` stays None: ``detailed_merge_status`` says
    ``not_approved`` (``validation`` reads it)."""
    head_sha = mr.sha or UNKNOWN_SHA
    return MergeRequestSnapshot(
        iid=mr.iid,
        target_branch=mr.target_branch,
        head_sha=head_sha,
        state=mr.state,
        title=mr.title,
        author=mr.author.username if mr.author else "",
        author_id=mr.author.id if mr.author else None,
        web_url=mr.web_url or "",
        source_branch=mr.source_branch,
        draft=mr.draft,
        bot_is_assignee=any(user.id == bot.id for user in mr.assignees),
        bot_is_reviewer=any(user.id == bot.id for user in mr.reviewers),
        base_sha=base_sha,
        detailed_merge_status=mr.detailed_merge_status,
        has_conflicts=mr.has_conflicts,
        blocking_discussions_resolved=mr.blocking_discussions_resolved,
        head_pipeline=head_pipeline if head_pipeline and head_pipeline.tests(head_sha) else None,
        labels=tuple(mr.labels),
        files_changed=files,
    )
