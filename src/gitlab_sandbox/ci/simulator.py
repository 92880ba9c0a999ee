"""The CI simulator: queues pipelines on a limited set of runners and finishes them on time.

One background task (``run()``) sleeps on the sandbox clock until the next pipeline is due, or
until ``submit``/``cancel``/``retry`` wakes it, so it never busy-loops even at speed 600.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from gitlab_sandbox.ci.pipeline import CiJob, PipelineRun, PipelineStatus, job_log
from gitlab_sandbox.ci.rules import (
    CiRules,
    TreeContentVerdict,
    TreeVerdict,
    decide,
    judge_content,
    pipeline_duration,
)
from gitlab_sandbox.clock import SandboxClock

logger = logging.getLogger(__name__)

# Simulated seconds a canceled running job stays ``canceling`` (its runner stops it).
CANCELING_SECONDS = 2.0
# ``Ci::HasStatus::CANCELABLE_STATUSES`` leaves these out.
_NOT_CANCELABLE = frozenset({PipelineStatus.canceling, PipelineStatus.manual})
_PLAYABLE = frozenset({PipelineStatus.manual, PipelineStatus.scheduled})

ReadTree = Callable[[str, str], Mapping[str, bytes]]
OnChange = Callable[[PipelineRun], Awaitable[None]]


class CiSimulator:
    """Runs submitted pipelines: pending in FIFO order, at most ``runner_capacity`` running."""

    def __init__(
        self,
        rules: CiRules,
        clock: SandboxClock,
        seed: int,
        read_tree: ReadTree,
        on_change: OnChange,
        *,
        first_job_id: int = 1,
    ) -> None:
        self.rules = rules
        self.clock = clock
        self.seed = seed
        self._read_tree = read_tree
        self._on_change = on_change
        self._runs: dict[int, PipelineRun] = {}
        self._queue: deque[int] = deque()  # pending pipeline ids, FIFO
        self._due: dict[int, float] = {}  # running pipeline id -> simulated finish time
        self._verdicts: dict[int, TreeVerdict] = {}  # running pipeline id -> its verdict
        self._durations: dict[int, float] = {}  # running pipeline id -> drawn duration
        self._announced: dict[int, tuple[PipelineStatus, int]] = {}
        self._announce: list[PipelineRun] = []  # transitions made outside the loop
        self._by_commit: dict[tuple[str, str], TreeContentVerdict] = {}
        self._next_job_id = first_job_id
        self._canceling: set[int] = set()  # running pipelines told to stop
        self._created: deque[int] = deque()  # created pipelines whose job's ``when`` is unread
        self._scheduled: dict[int, float] = {}  # delayed pipeline id -> simulated start time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()

    # -- what the lead calls -------------------------------------------------------------
    def submit(self, run: PipelineRun) -> None:
        """Queue a pipeline; it goes pending → running → success/failed as runners free up."""
        if run.id in self._runs:
            raise ValueError(f"Pipeline {run.id} was already submitted.")
        now = self.clock.now()
        run.status = PipelineStatus.created
        run.created_at = run.created_at or now
        self._runs[run.id] = run
        self._new_job(run)
        if self.rules.manual_marker is None and self.rules.delayed_marker is None:
            self._enqueue(run)  # every job is ``on_success``: no tree to read first
            return
        self._created.append(run.id)
        self._signal()

    def play(self, job_id: int) -> bool:
        """Play a ``manual`` job, or a ``scheduled`` one before its time (``POST
        /jobs/:id/play``): its pipeline queues and runs like any; False when the job is
        neither (GitLab's ``playable?``)."""
        for run in self._runs.values():
            job = run.current_job
            if job is not None and job.id == job_id and job.status in _PLAYABLE:
                self._scheduled.pop(run.id, None)
                self._enqueue(run)
                return True
        return False

    def record(self, run: PipelineRun) -> None:
        """Keep a pipeline that never runs (``skipped``), so it is listed and counted."""
        if run.id in self._runs:
            raise ValueError(f"Pipeline {run.id} was already submitted.")
        self._runs[run.id] = run

    def cancel(self, pipeline_id: int) -> bool:
        """Cancel a pipeline: a running one goes ``canceling`` until its runner stops it
        (``CANCELING_SECONDS``), then ``canceled``; a waiting one at once. False when it is
        unknown, finished, already canceling or ``manual`` (GitLab's
        ``CANCELABLE_STATUSES`` leave a manual job out)."""
        run = self._runs.get(pipeline_id)
        if run is None or run.status.finished or run.status in _NOT_CANCELABLE:
            return False
        if run.status is PipelineStatus.running:
            run.status = PipelineStatus.canceling
            job = run.current_job
            if job is not None:
                job.status = PipelineStatus.canceling
            self._canceling.add(pipeline_id)
            self._due[pipeline_id] = self.clock.monotonic() + CANCELING_SECONDS
            self._announce.append(run)
            self._signal()
            return True
        for waiting in (self._queue, self._created):
            if pipeline_id in waiting:
                waiting.remove(pipeline_id)
        self._scheduled.pop(pipeline_id, None)
        self._forget_running(pipeline_id)
        self._finish(run, PipelineStatus.canceled, "The pipeline was canceled.")
        self._announce.append(run)
        self._signal()
        return True

    def retry(self, pipeline_id: int) -> bool:
        """Run a failed or canceled pipeline again (attempt + 1); False when not retryable."""
        run = self._runs.get(pipeline_id)
        if run is None or run.status not in (PipelineStatus.failed, PipelineStatus.canceled):
            return False
        for job in run.jobs:
            job.retried = True
        run.attempt += 1
        run.started_at = run.finished_at = None
        run.duration = run.queued_duration = None
        run.failure_reason = None
        run.flaky = False
        self._new_job(run)
        self._enqueue(run)
        return True

    def get(self, pipeline_id: int) -> PipelineRun | None:
        """A submitted pipeline by id."""
        return self._runs.get(pipeline_id)

    def runs(self, project_key: str | None = None) -> list[PipelineRun]:
        """Every submitted pipeline (of one project), oldest first."""
        return [r for r in self._runs.values() if project_key in (None, r.project_key)]

    def job(self, job_id: int) -> CiJob | None:
        """A job by id (jobs of retried attempts included)."""
        for run in self._runs.values():
            for job in run.jobs:
                if job.id == job_id:
                    return job
        return None

    def stats(self) -> dict[str, int]:
        """Pipeline counts by status, plus attempts run to the end."""
        counts = {status.value: 0 for status in PipelineStatus}
        for run in self._runs.values():
            counts[run.status.value] += 1
        counts["total"] = len(self._runs)
        return counts

    def verdict(self, project_key: str, sha: str, attempt: int) -> bool:
        """Pure: would CI pass on this commit's tree at this attempt?"""
        return self.explain(project_key, sha, attempt).passed

    def explain(self, project_key: str, sha: str, attempt: int) -> TreeVerdict:
        """The verdict with the sentence the job log shows."""
        return decide(self.rules, self.seed, self._content(project_key, sha), attempt)

    def reset(self) -> None:
        """Forget every pipeline (the sandbox's reset); verdict caches stay valid."""
        self._runs.clear()
        self._queue.clear()
        self._due.clear()
        self._verdicts.clear()
        self._durations.clear()
        self._canceling.clear()
        self._created.clear()
        self._scheduled.clear()
        self._announce.clear()
        self._announced.clear()
        self._signal()

    # -- the background loop -------------------------------------------------------------
    async def run(self) -> None:
        """Drive pipelines until ``stop()``; run it as a task."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._stopped.clear()
        try:
            while not self._stopping:
                self._wake.clear()
                await self._step()
                if self._stopping:
                    break
                await self._wait(
                    min([*self._due.values(), *self._scheduled.values()], default=None)
                )
        finally:
            self._stopped.set()

    async def stop(self) -> None:
        """Stop the loop and wait for it to exit (no-op when it is not running)."""
        if self._loop is None:
            return
        self._stopping = True
        self._signal()
        await self._stopped.wait()
        self._loop = None

    async def _step(self) -> None:
        await self._flush_announcements()
        await self._read_when()
        now = self.clock.monotonic()
        for pipeline_id, start in sorted(self._scheduled.items(), key=lambda item: item[::-1]):
            if start <= now:
                del self._scheduled[pipeline_id]
                self._enqueue(self._runs[pipeline_id])  # the delayed job's time has come
        await self._flush_announcements()  # "pending" is told before "running"
        for pipeline_id in sorted(self._due, key=lambda p: (self._due[p], p)):
            if pipeline_id in self._due and self._due[pipeline_id] <= now:
                await self._complete(pipeline_id)
        while self._queue and len(self._due) < self.rules.runner_capacity:
            run = self._runs.get(self._queue.popleft())
            if run is not None:
                await self._start(run)
        await self._flush_announcements()

    async def _read_when(self) -> None:
        """Move created pipelines on by their job's ``when``: ``manual`` waits to be played,
        ``delayed`` is ``scheduled`` for ``delay_seconds``, anything else queues."""
        while self._created:
            run = self._runs.get(self._created.popleft())
            if run is None:
                continue
            try:
                content = await asyncio.to_thread(self._content, run.project_key, run.sha)
                when = content.when
            except Exception:  # unreadable: queue it; starting it fails it with the error
                when = "on_success"
            if run.status is not PipelineStatus.created:
                continue  # canceled while the tree was read
            if when == "manual":
                self._hold(run, PipelineStatus.manual)
            elif when == "delayed":
                self._scheduled[run.id] = self.clock.monotonic() + self.rules.delay_seconds
                self._hold(run, PipelineStatus.scheduled)
            else:
                self._enqueue(run)

    def _hold(self, run: PipelineRun, status: PipelineStatus) -> None:
        run.status = status
        job = run.current_job
        if job is not None:
            job.status = status
        self._announce.append(run)

    async def _wait(self, deadline: float | None) -> None:
        waiters: list[asyncio.Task[object]] = [asyncio.ensure_future(self._wake.wait())]
        if deadline is not None:
            waiters.append(asyncio.ensure_future(self.clock.sleep_until(deadline)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _start(self, run: PipelineRun) -> None:
        if run.status is not PipelineStatus.pending:
            return
        try:
            verdict = await asyncio.to_thread(self.explain, run.project_key, run.sha, run.attempt)
        except Exception as error:  # an unreadable tree fails the pipeline, not the loop
            logger.warning("CI could not read %s@%s: %s", run.project_key, run.sha, error)
            verdict = TreeVerdict(False, f"Could not read the commit's tree: {error}")
        if run.status is not PipelineStatus.pending:  # canceled while the tree was read
            return
        now = self.clock.now()
        run.status = PipelineStatus.running
        run.started_at = now
        if run.created_at is not None:
            run.queued_duration = max(0.0, (now - run.created_at).total_seconds())
        content = self._by_commit.get((run.project_key, run.sha))
        run.tree_digest = content.tree_digest if content else None
        job = run.current_job
        if job is not None:
            job.status, job.started_at = PipelineStatus.running, now
            job.queued_duration = run.queued_duration
            job.log = job_log(run, job, None)
        self._verdicts[run.id] = verdict
        duration = pipeline_duration(self.rules, self.seed, run.id, run.attempt)
        self._durations[run.id] = duration
        self._due[run.id] = self.clock.monotonic() + duration
        await self._notify(run)

    async def _complete(self, pipeline_id: int) -> None:
        duration = self._durations.get(pipeline_id, 0.0)
        verdict = self._verdicts.get(pipeline_id, TreeVerdict(True, ""))
        self._forget_running(pipeline_id)
        run = self._runs.get(pipeline_id)
        if pipeline_id in self._canceling:
            self._canceling.discard(pipeline_id)
            if run is not None and run.status is PipelineStatus.canceling:
                self._finish(run, PipelineStatus.canceled, "The pipeline was canceled.")
                await self._notify(run)
            return
        if run is None or run.status is not PipelineStatus.running:
            return
        status = PipelineStatus.success if verdict.passed else PipelineStatus.failed
        run.flaky = verdict.flaky
        # Report the drawn duration, not the loop's wake-up latency, so results are reproducible.
        finished_at = run.started_at + timedelta(seconds=duration) if run.started_at else None
        self._finish(run, status, verdict.reason, verdict.passed, finished_at)
        await self._notify(run)

    def _forget_running(self, pipeline_id: int) -> None:
        self._due.pop(pipeline_id, None)
        self._verdicts.pop(pipeline_id, None)
        self._durations.pop(pipeline_id, None)

    def _finish(
        self,
        run: PipelineRun,
        status: PipelineStatus,
        reason: str,
        passed: bool = False,
        finished_at: datetime | None = None,
    ) -> None:
        now = finished_at or self.clock.now()
        run.status = status
        run.finished_at = now
        if run.started_at is not None:
            run.duration = max(0.0, (now - run.started_at).total_seconds())
        run.failure_reason = None if passed else reason
        job = run.current_job
        if job is None:
            return
        job.status, job.finished_at, job.duration = status, now, run.duration
        if status is PipelineStatus.failed:
            job.failure_reason = "script_failure"
        if status is PipelineStatus.canceled:
            job.log = job.log or "The job was canceled before it finished.\n"
        else:
            job.log = job_log(run, job, passed, reason)

    # -- internals -----------------------------------------------------------------------
    def _content(self, project_key: str, sha: str) -> TreeContentVerdict:
        key = (project_key, sha)
        cached = self._by_commit.get(key)
        if cached is None:
            # A commit's tree never changes, so the content verdict is cached per commit.
            cached = judge_content(self.rules, self._read_tree(project_key, sha))
            self._by_commit[key] = cached
        return cached

    def _new_job(self, run: PipelineRun) -> None:
        job = CiJob(id=self._next_job_id, pipeline_id=run.id, created_at=self.clock.now())
        self._next_job_id += 1
        run.jobs.append(job)

    def _enqueue(self, run: PipelineRun) -> None:
        run.status = PipelineStatus.pending
        job = run.current_job
        if job is not None:
            job.status = PipelineStatus.pending
        self._queue.append(run.id)
        self._announce.append(run)
        self._signal()

    async def _flush_announcements(self) -> None:
        while self._announce:
            await self._notify(self._announce.pop(0))

    async def _notify(self, run: PipelineRun) -> None:
        state = (run.status, run.attempt)
        if self._announced.get(run.id) == state:
            return  # already told; a late announcement must not repeat a transition
        self._announced[run.id] = state
        try:
            await self._on_change(run)
        except Exception:  # a broken listener must not stop CI
            logger.exception("CI status listener failed for pipeline %s", run.id)

    def _signal(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)
        else:
            self._wake.set()
