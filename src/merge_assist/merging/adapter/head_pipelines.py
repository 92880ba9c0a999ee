"""Which head a pipeline tests, as GitLab counts it for a merge request's head pipeline.

A branch pipeline and a detached merge request pipeline (``refs/merge-requests/:iid/head``)
run on the MR's head: their ``sha`` is the head. A merged results pipeline
(``refs/merge-requests/:iid/merge``, projects with ``merge_pipelines_enabled``) and a merge
train pipeline (``.../train``) run on a merge commit GitLab made of the head and the target:
their ``sha`` is that commit and GitLab counts them for the head they merged
(``MergeRequest#diff_head_pipeline``: ``for_sha_or_source_sha``). The REST API does not show
a pipeline's ``source_sha``; the merge commit's second parent is it (GitLab merges the
source into the target: parents ``[target, source]``). That parent is read once per merge
commit (``GET .../repository/commits/:sha``) and kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import GitLabNotFound
from merge_assist.gitlab.models import PipelineRef
from merge_assist.merging.engine.observations import Pipeline

MERGE_REF = re.compile(r"^refs/merge-requests/(?P<iid>\d+)/(?:merge|train)$")
MAX_CACHED_MERGES = 2000


def as_pipeline(ref: PipelineRef | None, fallback_sha: str | None = None) -> Pipeline | None:
    """The engine's view of a GitLab pipeline (None without an id, sha or status)."""
    if ref is None or not ref.status:
        return None
    sha = ref.sha or fallback_sha
    if not sha:
        return None
    return Pipeline(
        id=ref.id,
        sha=sha,
        status=ref.status,
        ref=ref.ref,
        web_url=ref.web_url,
        source=ref.source,
    )


def merge_request_of(pipeline: Pipeline) -> int | None:
    """The iid of the MR whose merge (or train) ref the pipeline ran on; None otherwise."""
    found = MERGE_REF.match(pipeline.ref or "")
    return int(found.group("iid")) if found else None


class MergedHeads:
    """Ties merged results and train pipelines to the MR head they merged."""

    def __init__(
        self, client: GitLabClient, project_id: int, known: dict[str, str | None] | None = None
    ) -> None:
        self.client = client
        self.project_id = project_id
        self.source_by_merge = known if known is not None else {}

    async def source_of(self, merge_sha: str) -> str | None:
        """The head a merge commit merged (its second parent); None when it merged nothing."""
        if merge_sha not in self.source_by_merge:
            try:
                commit = await self.client.get_commit(self.project_id, merge_sha)
                parents: Sequence[str] = commit.parent_ids
            except GitLabNotFound:
                parents = ()
            if len(self.source_by_merge) >= MAX_CACHED_MERGES:
                self.source_by_merge.clear()
            self.source_by_merge[merge_sha] = parents[1] if len(parents) == 2 else None
        return self.source_by_merge[merge_sha]

    async def tie(self, pipeline: Pipeline) -> Pipeline:
        """``pipeline`` with its ``source_sha`` when it ran on an MR's merge or train ref."""
        if merge_request_of(pipeline) is None or pipeline.source_sha is not None:
            return pipeline
        source = await self.source_of(pipeline.sha)
        return pipeline.model_copy(update={"source_sha": source}) if source else pipeline

    async def tie_heads(
        self, pipelines: Iterable[Pipeline], heads: Mapping[int, str]
    ) -> list[Pipeline]:
        """Tie the merge ref pipelines of the MRs in ``heads`` (iid → current head), newest
        first, each MR's until one tests its current head: an older merge request pipeline
        can no longer be that head's pipeline (GitLab takes the newest), so it is not read."""
        settled: set[int] = set()
        tied: list[Pipeline] = []
        for pipeline in sorted(pipelines, key=lambda p: p.id, reverse=True):
            iid = merge_request_of(pipeline)
            if iid is not None and iid in heads and iid not in settled:
                pipeline = await self.tie(pipeline)
                if pipeline.source_sha == heads[iid]:
                    settled.add(iid)
            tied.append(pipeline)
        return tied
