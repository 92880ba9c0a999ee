"""Per-project settings the engine decides with (read from ``project_config`` by the executor)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from merge_assist.merging.engine.values import Frozen

Strategy = Literal["single", "batch", "train"]
# merge_api: sha-pinned merges through GitLab; push: a git push of the tested commit.
Landing = Literal["merge_api", "push"]
LabelKey = Literal["recognized", "not_ready", "rejected", "ready_to_merge", "batch_mr"]
LABEL_KEYS: tuple[LabelKey, ...] = (
    "recognized",
    "not_ready",
    "rejected",
    "ready_to_merge",
    "batch_mr",
)


class LabelNames(Frozen):
    """The GitLab label name used for each of the five label keys."""

    recognized: str = "Merge Assist: Recognised for Merge"
    not_ready: str = "Merge Assist: Not Ready for Merge"
    rejected: str = "Merge Assist: Rejected"
    ready_to_merge: str = "Merge Assist: Ready to Merge"
    batch_mr: str = "Merge Assist: Batch Merge Request"

    def name(self, key: LabelKey) -> str:
        """The configured name of ``key``."""
        return str(getattr(self, key))

    def key_of(self, name: str) -> LabelKey | None:
        """The key whose configured name is ``name``, or None for a label that is not ours."""
        for key in LABEL_KEYS:
            if self.name(key) == name:
                return key
        return None


class EngineConfig(Frozen):
    """What the engine needs to know about one project."""

    strategy: Strategy = "batch"
    batch_size: int = Field(default=5, ge=1, le=100)
    # Pipelines a failed batch may run side by side to find its culprit (1: one at a time).
    parallel_tests: int = Field(default=4, ge=1, le=100)
    # Cars a train runs at once at most (the depth adapts between 1 and this).
    train_depth: int = Field(default=3, ge=1, le=10)
    train_branch_prefix: str = "merge-assist/train"
    # The queue's landings ask GitLab for no pipeline on the target (their tree passed CI).
    skip_ci_on_landing: bool = False
    max_rejections: int = Field(default=3, ge=1, le=100)
    # How often a failed pipeline is retried before its failure counts (a flake is possible).
    pipeline_retries: int = Field(default=1, ge=0, le=3)
    landing: Landing = "merge_api"
    labels: LabelNames = LabelNames()
    # Empty means every target branch is allowed.
    target_branches: tuple[str, ...] = ()
    batch_branch_prefix: str = "merge-assist/batch"
    signature: str = "Merge Assist"
    # How long to sleep when nothing happens (the executor also wakes on webhooks).
    poll_seconds: int = Field(default=300, ge=1)
    # How soon to look again while waiting for something we started (pipeline, rebase).
    busy_poll_seconds: int = Field(default=30, ge=1)

    def allows_target(self, branch: str) -> bool:
        """Whether MRs into ``branch`` may be merged by the queue."""
        return not self.target_branches or branch in self.target_branches
