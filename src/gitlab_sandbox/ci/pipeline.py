"""Pipelines and jobs as the CI simulator runs them (the lead's API renders them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class PipelineStatus(enum.StrEnum):
    """GitLab's pipeline and job statuses (``Ci::HasStatus::AVAILABLE_STATUSES``, 17.x)."""

    created = "created"
    waiting_for_resource = "waiting_for_resource"
    preparing = "preparing"
    pending = "pending"
    running = "running"
    success = "success"
    failed = "failed"
    canceling = "canceling"  # 17.x: the runner is given time to stop the job
    canceled = "canceled"
    skipped = "skipped"  # [ci skip], ``-o ci.skip``
    manual = "manual"  # waits for someone to play a manual job
    scheduled = "scheduled"  # a delayed job waits for its time

    @property
    def finished(self) -> bool:
        """True once nothing more will happen without a retry."""
        return self in _FINISHED


_FINISHED = frozenset(
    {
        PipelineStatus.success,
        PipelineStatus.failed,
        PipelineStatus.canceled,
        PipelineStatus.skipped,
    }
)

# GitLab's `detailed_status` labels ("passed" rather than "success").
DETAILED_STATUS = {
    PipelineStatus.created: "created",
    PipelineStatus.waiting_for_resource: "waiting",
    PipelineStatus.preparing: "preparing",
    PipelineStatus.pending: "pending",
    PipelineStatus.running: "running",
    PipelineStatus.success: "passed",
    PipelineStatus.failed: "failed",
    PipelineStatus.canceling: "canceling",
    PipelineStatus.canceled: "canceled",
    PipelineStatus.skipped: "skipped",
    PipelineStatus.manual: "manual",
    PipelineStatus.scheduled: "delayed",
}


@dataclass
class CiJob:
    """One job of a pipeline (the simulator runs a single `test` job per attempt)."""

    id: int
    pipeline_id: int
    name: str = "test"
    stage: str = "test"
    status: PipelineStatus = PipelineStatus.created
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    queued_duration: float | None = None
    failure_reason: str | None = None  # GitLab: "script_failure"
    retried: bool = False  # superseded by a retry
    log: str = ""


@dataclass
class PipelineRun:
    """A pipeline on one commit; the simulator moves it through GitLab's statuses."""

    id: int
    project_key: str
    sha: str
    ref: str
    status: PipelineStatus = PipelineStatus.created
    source: str = "push"
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None  # running seconds of the last attempt (simulated)
    queued_duration: float | None = None
    attempt: int = 1
    tree_digest: str | None = None  # content address of the tree tested, known once it ran
    failure_reason: str | None = None  # sentence for people; also in the job log
    flaky: bool = False
    jobs: list[CiJob] = field(default_factory=list)

    @property
    def detailed_status(self) -> str:
        """GitLab's `detailed_status.text`-like label ("passed", "failed", ...)."""
        return DETAILED_STATUS[self.status]

    @property
    def current_job(self) -> CiJob | None:
        """The job of the latest attempt."""
        active = [job for job in self.jobs if not job.retried]
        return active[-1] if active else None


def job_log(run: PipelineRun, job: CiJob, passed: bool | None, reason: str = "") -> str:
    """A GitLab-runner-like trace that says why the job failed (``passed=None``: still running)."""
    lines = [
        "Running with gitlab-runner 17.0.0 (sandbox)",
        "  on sandbox-runner",
        'Preparing the "sandbox" executor',
        "Getting source from Git repository",
        f"Checking out {run.sha[:8]} as detached HEAD (ref is {run.ref})...",
        f'Executing "step_script" stage of the job script (attempt {run.attempt})',
        "$ sandbox-ci check",
    ]
    if passed is None:
        pass
    elif passed:
        lines += ["All checks passed.", "Job succeeded"]
    else:
        lines += _pytest_failure(reason)
        lines += ["Cleaning up project directory and file based variables", FAILED_LINE]
    return "\n".join(lines) + "\n"


FAILED_LINE = "ERROR: Job failed: exit code 1"
_TEST = "tests/test_sandbox_ci.py"


def _pytest_failure(reason: str) -> list[str]:
    """What pytest prints for the failed check: the assertion (``E`` lines) with ``reason``,
    the short summary and the count, as a runner's log shows them."""
    return [
        "============================= test session starts ==============================",
        "collected 1 item",
        "",
        f"{_TEST} F" + " " * 52 + "[100%]",
        "",
        "=================================== FAILURES ===================================",
        "______________________________ test_tree_is_green _____________________________",
        "",
        "    def test_tree_is_green(tree):",
        ">       assert not tree.failures()",
        f"E       AssertionError: {reason}",
        "",
        f"{_TEST}:12: AssertionError",
        "=========================== short test summary info ============================",
        f"FAILED {_TEST}::test_tree_is_green - AssertionError: {reason}",
        "============================== 1 failed in 0.42s ===============================",
    ]
