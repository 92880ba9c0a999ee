"""The CI simulator: seeded durations, runner capacity, results decided by the tree."""

from gitlab_sandbox.ci.pipeline import CiJob, PipelineRun, PipelineStatus
from gitlab_sandbox.ci.rules import CiRules, TreeVerdict
from gitlab_sandbox.ci.simulator import CiSimulator

__all__ = ["CiJob", "CiRules", "CiSimulator", "PipelineRun", "PipelineStatus", "TreeVerdict"]
