"""A tiny in-memory GitLab for the simulation tests: commits, MRs, CI, and the executor.

Trees are sets of change tokens ``(iid, version)``; a merge is the union of trees. The CI
oracle fails a tree holding a bad MR, or both MRs of a bad pair. Actions are applied the way
the real executor must apply them: idempotently. Authors push a new version after each strike
comment (a new version resolves textual conflicts but keeps a bad change bad).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import (
    ActionResult,
    BatchBuildResult,
    BatchMRResult,
    BuiltMember,
    MergeRequestSnapshot,
    MergeResult,
    Observations,
    Pipeline,
    PipelineResult,
    PipelineRetryResult,
    PushResult,
    RebaseResult,
)
from merge_assist.merging.engine.state import TargetQueueState

Token = tuple[int, int]
STRIKE_TEMPLATES = {"not_ready", "rebase_failed", "batch_conflict", "batch_failed"}
START = datetime(2025, 1, 1, tzinfo=UTC)
TARGET = "main"


@dataclass
class Commit:
    sha: str
    parents: tuple[str, ...]
    tree: frozenset[Token]


@dataclass
class SimMR:
    iid: int
    head: str
    base: str
    version: int = 0
    state: str = "opened"
    assigned: bool = True
    labels: set[str] = field(default_factory=set)
    priority: int = 0
    source_branch: str = ""
    is_batch: bool = False
    wants_push: bool = False
    merges: int = 0


@dataclass
class World:
    bad: set[int]
    bad_pairs: set[frozenset[int]]
    conflict_pairs: set[frozenset[int]]
    commits: dict[str, Commit] = field(default_factory=dict)
    mrs: dict[int, SimMR] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    builds: dict[str, tuple[act.BuildBatch, BatchBuildResult]] = field(default_factory=dict)
    pipelines: list[Pipeline] = field(default_factory=list)
    target_history: list[str] = field(default_factory=list)
    notes: dict[int, list[str]] = field(default_factory=dict)
    history: list[act.RecordHistory] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    clock: int = 0
    outsider_at: int | None = None  # at this tick someone pushes to the target by hand
    retried: dict[int, int] = field(default_factory=dict)  # pipeline id -> retries run
    # Trees (by the MRs they hold) whose first run of a pipeline flakes; a retry passes.
    flaky: set[frozenset[int]] = field(default_factory=set)
    _next: int = 0

    # --- setup ------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        iids: list[int],
        bad: set[int],
        bad_pairs: set[frozenset[int]],
        conflict_pairs: set[frozenset[int]],
        priorities: dict[int, int] | None = None,
    ) -> World:
        world = cls(bad=bad, bad_pairs=bad_pairs, conflict_pairs=conflict_pairs)
        root = world._commit((), frozenset())
        world.branches[TARGET] = root
        world.target_history.append(root)
        for iid in iids:
            head = world._commit((root,), frozenset({(iid, 0)}))
            world.mrs[iid] = SimMR(
                iid=iid,
                head=head,
                base=root,
                source_branch=f"feature/{iid}",
                priority=(priorities or {}).get(iid, 0),
            )
            world.branches[f"feature/{iid}"] = head
            world._pipeline(head, f"feature/{iid}")
        return world

    def _commit(self, parents: tuple[str, ...], tree: frozenset[Token]) -> str:
        self._next += 1
        sha = f"{self._next:040x}"
        self.commits[sha] = Commit(sha, parents, tree)
        return sha

    def _pipeline(self, sha: str, ref: str) -> Pipeline:
        self._next += 1
        pipeline = Pipeline(id=self._next, sha=sha, status="running", ref=ref)
        self.pipelines.append(pipeline)
        return pipeline

    # --- facts ------------------------------------------------------------------------------

    @property
    def target(self) -> str:
        return self.branches[TARGET]

    def tree(self, sha: str) -> frozenset[Token]:
        return self.commits[sha].tree

    def ancestors(self, sha: str) -> set[str]:
        seen: set[str] = set()
        todo = [sha]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.commits[current].parents)
        return seen

    def passes(self, tree: frozenset[Token]) -> bool:
        iids = {iid for iid, _ in tree}
        return not (iids & self.bad) and not any(pair <= iids for pair in self.bad_pairs)

    def conflicts(self, iid: int, version: int, tree: frozenset[Token]) -> bool:
        if version > 0:
            return False  # the author resolved conflicts when pushing again
        present = {other for other, _ in tree if other != iid}
        return any(iid in pair and (pair - {iid}) <= present for pair in self.conflict_pairs)

    def green_trees(self) -> set[frozenset[Token]]:
        return {self.tree(p.sha) for p in self.pipelines if p.status == "success"}

    def latest_pipeline(self, sha: str) -> Pipeline | None:
        found = [p for p in self.pipelines if p.sha == sha]
        return found[-1] if found else None

    def merged_iids(self) -> set[int]:
        return {mr.iid for mr in self.mrs.values() if mr.state == "merged" and not mr.is_batch}

    def busy(self) -> bool:
        running = any(p.status == "running" for p in self.pipelines)
        return running or any(mr.wants_push for mr in self.mrs.values())

    # --- observations -----------------------------------------------------------------------

    def observe(self, state: TargetQueueState, results: tuple[ActionResult, ...]) -> Observations:
        wanted = {mr.iid for mr in state.merge_requests} | set(state.rejected)
        snapshots = []
        for mr in self.mrs.values():
            if mr.is_batch:
                continue
            if (mr.state == "opened" and mr.assigned) or mr.iid in wanted:
                snapshots.append(self.snapshot(mr))
        return Observations(
            project_id=1,
            target_branch=TARGET,
            target_sha=self.target,
            merge_requests=tuple(snapshots),
            pipelines=tuple(self.pipelines),
            results=results,
        )

    def snapshot(self, mr: SimMR) -> MergeRequestSnapshot:
        conflict = mr.state == "opened" and self.conflicts(
            mr.iid, mr.version, self.tree(self.target)
        )
        return MergeRequestSnapshot(
            iid=mr.iid,
            target_branch=TARGET,
            head_sha=mr.head,
            state=mr.state,
            author=f"author{mr.iid}",
            source_branch=mr.source_branch,
            bot_is_assignee=mr.assigned,
            base_sha=mr.base,
            detailed_merge_status="conflict" if conflict else "mergeable",
            has_conflicts=conflict,
            approvals_left=0,
            head_pipeline=self.latest_pipeline(mr.head),
            labels=tuple(sorted(mr.labels)),
            priority=mr.priority,
        )

    # --- time -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return START + timedelta(minutes=self.clock)

    def tick(self) -> None:
        """Time passes: pipelines finish, struck authors push a new version."""
        self.clock += 1
        if self.clock == self.outsider_at:
            self._outsider_push()
        self.pipelines = [
            p.model_copy(update={"status": self._verdict(p)}) if p.status == "running" else p
            for p in self.pipelines
        ]
        for mr in self.mrs.values():
            if mr.wants_push and mr.state == "opened":
                mr.version += 1
                mr.base = self.target
                mr.head = self._commit(
                    (self.target,), self.tree(self.target) | {(mr.iid, mr.version)}
                )
                self.branches[mr.source_branch] = mr.head
                self._pipeline(mr.head, mr.source_branch)
            mr.wants_push = False

    def _verdict(self, pipeline: Pipeline) -> str:
        tree = self.tree(pipeline.sha)
        flaky = frozenset(iid for iid, _ in tree if iid) in self.flaky
        if flaky and not self.retried.get(pipeline.id):
            return "failed"
        return "success" if self.passes(tree) else "failed"

    def _outsider_push(self) -> None:
        """A maintainer pushes a (tested) commit straight to the target: the queue must cope."""
        sha = self._commit((self.target,), self.tree(self.target) | {(0, self.clock)})
        self.pipelines.append(Pipeline(id=self._next + 1, sha=sha, status="success"))
        self._next += 1
        self.branches[TARGET] = sha
        self.target_history.append(sha)

    # --- the executor -----------------------------------------------------------------------

    def apply(self, actions: tuple[act.Action, ...]) -> tuple[ActionResult, ...]:
        results: list[ActionResult] = []
        for action in actions:
            result = self._apply(action)
            if result is not None:
                results.append(result)
        return tuple(results)

    def _apply(self, action: act.Action) -> ActionResult | None:
        match action:
            case act.AddLabels(iid=iid, labels=labels, remove=removed):
                self.mrs[iid].labels = (self.mrs[iid].labels - set(removed)) | set(labels)
            case act.RemoveLabels(iid=iid, labels=labels):
                self.mrs[iid].labels -= set(labels)
            case act.PostComment():
                return self._comment(action)
            case act.Unassign(iid=iid):
                self.mrs[iid].assigned = False
            case act.Rebase():
                return self._rebase(action)
            case act.BuildBatch():
                return self._build_batch(action)
            case act.CreateBatchMR():
                return self._batch_mr(action)
            case act.RunPipeline(attempt_id=attempt_id, ref=ref, sha=sha):
                pipeline = self.latest_pipeline(sha)
                if pipeline is None or pipeline.status == "skipped":  # the API ignores it
                    pipeline = self._pipeline(sha, ref)
                return PipelineResult(
                    attempt_id=attempt_id, sha=sha, status="created", pipeline_id=pipeline.id
                )
            case act.RetryPipeline():
                return self._retry(action)
            case act.CancelPipeline(pipeline_id=pipeline_id, sha=sha, ref=ref):
                self.pipelines = [
                    p.model_copy(update={"status": "canceled"})
                    if p.status in ("pending", "running")
                    and (
                        p.id == pipeline_id
                        or (pipeline_id is None and (p.sha, p.ref) == (sha, ref))
                    )
                    else p
                    for p in self.pipelines
                ]
            case act.MergeMR():
                return self._merge(action)
            case act.PushTarget():
                return self._push(action)
            case act.CloseBatchMR(iid=iid):
                if self.mrs[iid].state == "opened":
                    self.mrs[iid].state = "closed"
            case act.DeleteBranch(branch=branch):
                self.branches.pop(branch, None)
            case act.RecordHistory():
                if all(h.record_key != action.record_key for h in self.history):
                    self.history.append(action)  # unique by key: replays record nothing
            case act.Wait():
                pass
        return None

    def _retry(self, action: act.RetryPipeline) -> PipelineRetryResult:
        """GitLab's retry: the same pipeline runs again, once per retry number."""
        done = self.retried.get(action.pipeline_id, 0)
        if done < action.retry:
            self.retried[action.pipeline_id] = done = done + 1
            self.pipelines = [
                p.model_copy(update={"status": "running"}) if p.id == action.pipeline_id else p
                for p in self.pipelines
            ]
        return PipelineRetryResult(
            pipeline_id=action.pipeline_id, sha=action.sha, status="retried", retries=done
        )

    def _comment(self, action: act.PostComment) -> None:
        notes = self.notes.setdefault(action.iid, [])
        if action.comment_key in notes:
            return  # the marker is already there: idempotent
        notes.append(action.comment_key)
        if action.template in STRIKE_TEMPLATES:
            self.mrs[action.iid].wants_push = True

    def _rebase(self, action: act.Rebase) -> RebaseResult:
        mr = self.mrs[action.iid]
        if mr.base == action.onto_sha:
            return RebaseResult(iid=mr.iid, status="done", new_sha=mr.head)
        if self.conflicts(mr.iid, mr.version, self.tree(action.onto_sha)):
            return RebaseResult(iid=mr.iid, status="conflict", message="conflict in file.txt")
        tree = self.tree(action.onto_sha) | {(mr.iid, mr.version)}
        mr.head = self._commit((action.onto_sha,), tree)
        mr.base = action.onto_sha
        self.branches[mr.source_branch] = mr.head
        self._pipeline(mr.head, mr.source_branch)  # GitLab runs CI on the push
        return RebaseResult(iid=mr.iid, status="done", new_sha=mr.head)

    def _build_batch(self, action: act.BuildBatch) -> BatchBuildResult:
        built = self.builds.get(action.branch)
        if (
            built is not None
            and built[0] == action
            and self.branches.get(action.branch) == built[1].sha
        ):
            return built[1]  # a replay: the branch holds this build already
        head, members = action.base_sha, []
        for member in action.members:
            tree = self.tree(head)
            source_tree = self.tree(member.source_sha)
            if source_tree <= tree:
                members.append(BuiltMember(iid=member.iid, status="merged", prefix_sha=head))
                continue
            version = max(v for i, v in source_tree if i == member.iid)
            if self.conflicts(member.iid, version, tree):
                members.append(BuiltMember(iid=member.iid, status="conflict", prefix_sha=head))
                continue
            head = self._commit((head, member.source_sha), tree | source_tree)
            members.append(BuiltMember(iid=member.iid, status="merged", prefix_sha=head))
        self.branches[action.branch] = head
        if action.skip_ci:  # the push pipeline of a ``[skip ci]`` tip is saved as skipped
            self._next += 1
            self.pipelines.append(
                Pipeline(id=self._next, sha=head, status="skipped", ref=action.branch)
            )
        result = BatchBuildResult(
            attempt_id=action.attempt_id, status="built", sha=head, members=tuple(members)
        )
        self.builds[action.branch] = (action, result)
        return result

    def _batch_mr(self, action: act.CreateBatchMR) -> BatchMRResult:
        for mr in self.mrs.values():
            if mr.is_batch and mr.source_branch == action.branch and mr.state == "opened":
                return BatchMRResult(attempt_id=action.attempt_id, status="created", iid=mr.iid)
        iid = 10_000 + len(self.mrs)
        head = self.branches[action.branch]
        self.mrs[iid] = SimMR(
            iid=iid,
            head=head,
            base=self.target,
            assigned=False,
            labels=set(action.labels),
            source_branch=action.branch,
            is_batch=True,
        )
        return BatchMRResult(
            attempt_id=action.attempt_id,
            status="created",
            iid=iid,
            web_url=f"https://gitlab.example/mr/{iid}",
        )

    def _merge(self, action: act.MergeMR) -> MergeResult:
        mr = self.mrs[action.iid]
        if mr.is_batch:
            mr.head = self.branches.get(mr.source_branch, mr.head)
        if mr.state == "merged":
            return MergeResult(iid=mr.iid, status="merged", merge_sha=self.target)
        if mr.head != action.sha:
            return MergeResult(iid=mr.iid, status="sha_mismatch")
        if action.expected_target_sha is not None and self.target != action.expected_target_sha:
            return MergeResult(iid=mr.iid, status="target_moved")
        pipeline = self.latest_pipeline(mr.head)
        if pipeline is None or pipeline.status != "success":
            return MergeResult(iid=mr.iid, status="not_mergeable", message="pipeline")
        if not mr.is_batch and self.conflicts(mr.iid, mr.version, self.tree(self.target)):
            return MergeResult(iid=mr.iid, status="not_mergeable", message="conflict")
        merge = self._commit((self.target, mr.head), self.tree(self.target) | self.tree(mr.head))
        self._move_target(merge)
        return MergeResult(iid=mr.iid, status="merged", merge_sha=merge)

    def _push(self, action: act.PushTarget) -> PushResult:
        if self.target == action.sha:
            return PushResult(attempt_id=action.attempt_id, status="pushed", new_sha=action.sha)
        if self.target != action.expected_old_sha:
            return PushResult(attempt_id=action.attempt_id, status="stale")
        if self.target not in self.ancestors(action.sha):
            return PushResult(attempt_id=action.attempt_id, status="failed")
        self._move_target(action.sha)
        return PushResult(attempt_id=action.attempt_id, status="pushed", new_sha=action.sha)

    def _move_target(self, sha: str) -> None:
        """Move the target; check green main; mark MRs whose head is now in it as merged."""
        tree = self.tree(sha)
        if tree not in self.green_trees():
            self.violations.append(f"target moved to an untested tree {sorted(tree)}")
        iids = [iid for iid, _ in tree]
        if len(iids) != len(set(iids)):
            self.violations.append(f"an MR landed twice: {sorted(tree)}")
        self.branches[TARGET] = sha
        self.target_history.append(sha)
        reachable = self.ancestors(sha)
        for mr in self.mrs.values():
            if mr.state == "opened" and mr.head in reachable:
                mr.state = "merged"
                mr.merges += 1
