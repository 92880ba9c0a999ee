"""Reading one (project, target branch) queue from GitLab: the half of the port that observes.

Per step it costs ``3 + 2·m + s`` calls (plus one diff listing per new head): the target
branch, the open MRs with the bot as assignee and as reviewer (one page each up to 100), then
per MR ``m`` its details (head pipeline, diff refs) and its approvals, and per tested sha
``s`` of an attempt one pipeline listing. Files changed are cached by head sha, the
approvals API is not asked again once it answered 403/404 (not available on this GitLab).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import GitLabForbidden, GitLabNotFound
from merge_assist.gitlab.models import MergeRequest, PipelineRef, User
from merge_assist.merging.observations import MergeRequestSnapshot, Observations, Pipeline
from merge_assist.merging.state import TargetQueueState

UNKNOWN_SHA = "0" * 40
# At most this many MR reads run at once: GitLab rate limits, and the machine is shared.
CONCURRENT_READS = 4
MAX_CACHED_HEADS = 2000


@dataclass
class ObserverCache:
    """What the observer keeps between steps (all of it can be lost without harm)."""

    bot: User | None = None
    files_by_head: dict[str, tuple[str, ...]] = field(default_factory=dict)
    approvals_available: bool = True

    def remember_files(self, head_sha: str, files: tuple[str, ...]) -> None:
        """Cache the files a head changes; bounded so a long-lived worker does not grow."""
        if len(self.files_by_head) >= MAX_CACHED_HEADS:
            self.files_by_head.clear()
        self.files_by_head[head_sha] = files


def mentioned_iids(state: TargetQueueState) -> set[int]:
    """Every MR the state refers to: queued, rejected, attempt members and batch MRs."""
    iids = {mr.iid for mr in state.merge_requests} | set(state.rejected)
    for attempt in state.attempts:
        iids |= {member.iid for member in attempt.members}
        if attempt.batch_mr_iid is not None:
            iids.add(attempt.batch_mr_iid)
    return iids


def tested_shas(state: TargetQueueState) -> set[str]:
    """The shas whose pipelines the engine waits for: attempt heads and tested trees."""
    shas: set[str] = set()
    for attempt in state.attempts:
        if not attempt.active:
            continue
        shas |= {sha for sha in (attempt.tested_sha, attempt.branch_sha) if sha}
        shas |= set(attempt.pipeline_requested)
    return shas


def as_pipeline(ref: PipelineRef | None, fallback_sha: str | None = None) -> Pipeline | None:
    """The engine's view of a GitLab pipeline (None without an id, sha or status)."""
    if ref is None or not ref.status:
        return None
    sha = ref.sha or fallback_sha
    if not sha:
        return None
    return Pipeline(id=ref.id, sha=sha, status=ref.status, ref=ref.ref, web_url=ref.web_url)


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
        wanted = mentioned_iids(state) | set(listed)
        known_heads = {mr.iid: mr.head_sha for mr in state.merge_requests}
        snapshots = await asyncio.gather(
            *(self._snapshot(iid, bot, known_heads.get(iid)) for iid in sorted(wanted))
        )
        pipelines = await self.pipelines(tested_shas(state))
        return Observations(
            project_id=self.project_id,
            target_branch=self.target_branch,
            target_sha=target_sha,
            merge_requests=tuple(snapshots),
            pipelines=tuple(pipelines),
        )

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
                self.project_id, target_branch=self.target_branch, assignee_id=bot.id
            ),
            self.client.list_merge_requests(
                self.project_id, target_branch=self.target_branch, reviewer_id=bot.id
            ),
        )
        return {mr.iid: mr for mr in [*by_assignee, *by_reviewer]}

    async def pipelines(self, shas: Iterable[str]) -> list[Pipeline]:
        """The newest pipelines of each sha (one listing per sha)."""
        found: list[Pipeline] = []
        for sha in sorted(shas):
            async with self._reads:
                listed = await self.client.list_pipelines(self.project_id, sha=sha, limit=5)
            found += [p for p in (as_pipeline(item, sha) for item in listed) if p is not None]
        return found

    async def _snapshot(self, iid: int, bot: User, known_head: str | None) -> MergeRequestSnapshot:
        async with self._reads:
            try:
                mr = await self.client.get_merge_request(self.project_id, iid)
            except GitLabNotFound:
                return MergeRequestSnapshot(
                    iid=iid,
                    target_branch=self.target_branch,
                    head_sha=known_head or UNKNOWN_SHA,
                    state="closed",
                )
            approvals_left = await self._approvals_left(mr)
            files = await self._files(mr)
        return snapshot_of(mr, bot, approvals_left=approvals_left, files=files)

    async def _approvals_left(self, mr: MergeRequest) -> int | None:
        if mr.state != "opened" or not self.cache.approvals_available:
            return None
        try:
            approvals = await self.client.mr_approvals(self.project_id, mr.iid)
        except (GitLabNotFound, GitLabForbidden):
            self.cache.approvals_available = False  # GitLab without the approvals API
            return None
        return approvals.approvals_left

    async def _files(self, mr: MergeRequest) -> tuple[str, ...]:
        if mr.state != "opened" or not mr.sha:
            return ()
        cached = self.cache.files_by_head.get(mr.sha)
        if cached is not None:
            return cached
        diffs = await self.client.mr_changes(self.project_id, mr.iid)
        files = tuple(sorted({path for d in diffs for path in (d.old_path, d.new_path) if path}))
        self.cache.remember_files(mr.sha, files)
        return files


def snapshot_of(
    mr: MergeRequest, bot: User, *, approvals_left: int | None, files: tuple[str, ...]
) -> MergeRequestSnapshot:
    """The engine's snapshot of a merge request read in detail."""
    head_sha = mr.sha or UNKNOWN_SHA
    return MergeRequestSnapshot(
        iid=mr.iid,
        target_branch=mr.target_branch,
        head_sha=head_sha,
        state=mr.state,
        title=mr.title,
        author=mr.author.username if mr.author else "",
        web_url=mr.web_url or "",
        source_branch=mr.source_branch,
        draft=mr.draft,
        bot_is_assignee=any(user.id == bot.id for user in mr.assignees),
        bot_is_reviewer=any(user.id == bot.id for user in mr.reviewers),
        base_sha=mr.diff_refs.base_sha if mr.diff_refs else None,
        detailed_merge_status=mr.detailed_merge_status,
        has_conflicts=mr.has_conflicts,
        blocking_discussions_resolved=mr.blocking_discussions_resolved,
        approvals_left=approvals_left,
        head_pipeline=as_pipeline(mr.head_pipeline, head_sha),
        labels=tuple(mr.labels),
        files_changed=files,
    )
