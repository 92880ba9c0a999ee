"""The CI simulator on a real event loop with a fast or frozen sandbox clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

from gitlab_sandbox.ci import CiRules, CiSimulator, PipelineRun, PipelineStatus
from gitlab_sandbox.ci.simulator import CANCELING_SECONDS
from gitlab_sandbox.clock import SandboxClock

TREES: dict[str, dict[str, bytes]] = {
    "good": {"README.md": b"ok\n"},
    "bad": {"README.md": b"ok\n", "lib/x.py": b"# sandbox-ci: fail\n"},
    "half-a": {"a.py": b"# semantic-a\n"},
    "both": {"a.py": b"# semantic-a\n", "b.py": b"# semantic-b\n"},
    "manual": {"deploy.py": b"# sandbox-ci: manual\n"},
    "manual-bad": {"deploy.py": b"# sandbox-ci: manual\n# sandbox-ci: fail\n"},
    "delayed": {"later.py": b"# sandbox-ci: delayed\n"},
}
WHEN_RULES = {"manual_marker": "sandbox-ci: manual", "delayed_marker": "sandbox-ci: delayed"}


def read_tree(project_key: str, sha: str) -> Mapping[str, bytes]:
    if sha.startswith("n"):
        return {"n.txt": sha.encode()}
    return TREES[sha]


class Recorder:
    """An on_change listener that records every transition and the running count."""

    def __init__(self) -> None:
        self.transitions: list[tuple[int, str]] = []
        self.max_running = 0
        self.simulator: CiSimulator | None = None

    async def __call__(self, run: PipelineRun) -> None:
        self.transitions.append((run.id, run.status.value))
        if self.simulator is not None:
            running = self.simulator.stats()["running"]
            self.max_running = max(self.max_running, running)


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never became true")


def make(rules: CiRules, clock: SandboxClock, seed: int = 1) -> tuple[CiSimulator, Recorder]:
    recorder = Recorder()
    simulator = CiSimulator(rules, clock, seed, read_tree, recorder)
    recorder.simulator = simulator
    return simulator, recorder


async def launch(simulator: CiSimulator) -> asyncio.Task[None]:
    task = asyncio.create_task(simulator.run())
    await asyncio.sleep(0)
    return task


def done(simulator: CiSimulator) -> bool:
    return all(run.status.finished for run in simulator.runs())


async def test_capacity_two_never_runs_more_than_two_and_all_finish() -> None:
    clock = SandboxClock(speed=600)
    simulator, recorder = make(CiRules(runner_capacity=2, duration_seconds=(30, 90)), clock)
    task = await launch(simulator)
    for n in range(1, 6):
        simulator.submit(PipelineRun(n, "p", f"n{n}", "main"))
    await until(lambda: done(simulator))
    await simulator.stop()
    await task
    assert recorder.max_running <= 2
    assert recorder.max_running == 2
    assert all(run.status is PipelineStatus.success for run in simulator.runs())
    started = [pid for pid, status in recorder.transitions if status == "running"]
    assert started == [1, 2, 3, 4, 5]  # FIFO
    assert all(30 <= (run.duration or 0) <= 90 for run in simulator.runs())


async def test_frozen_clock_keeps_pipelines_running_until_time_moves() -> None:
    clock = SandboxClock(speed=0)
    simulator, recorder = make(CiRules(runner_capacity=1, duration_seconds=(60, 60)), clock)
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "good", "main"))
    simulator.submit(PipelineRun(2, "p", "bad", "main"))
    await until(lambda: simulator.stats()["running"] == 1)
    first, second = simulator.get(1), simulator.get(2)
    assert first is not None
    assert second is not None
    assert (first.status, second.status) == (PipelineStatus.running, PipelineStatus.pending)
    running_job = first.current_job
    assert running_job is not None
    assert "$ sandbox-ci check" in running_job.log
    assert "Job succeeded" not in running_job.log
    clock.advance(60)
    await until(lambda: first.status is PipelineStatus.success)
    await until(lambda: second.status is PipelineStatus.running)
    clock.advance(60)
    await until(lambda: second.status is PipelineStatus.failed)
    await simulator.stop()
    await task
    assert first.duration == 60
    assert second.queued_duration == 60
    assert recorder.transitions == [
        (1, "pending"),
        (2, "pending"),
        (1, "running"),
        (1, "success"),
        (2, "running"),
        (2, "failed"),
    ]
    job = second.current_job
    assert job is not None
    assert job.status is PipelineStatus.failed
    assert job.failure_reason == "script_failure"
    assert "lib/x.py (line 1)" in job.log
    assert "ERROR: Job failed" in job.log
    lines = job.log.splitlines()
    assert lines[-1] == "ERROR: Job failed: exit code 1"
    assert any(line.startswith("E       AssertionError: ") and "lib/x.py" in line for line in lines)
    assert any(line.startswith("FAILED tests/") for line in lines)
    assert simulator.job(job.id) is job


async def test_semantic_conflict_fails_only_the_combined_tree() -> None:
    rules = CiRules(fail_together=[["semantic-a", "semantic-b"]], duration_seconds=(1, 2))
    simulator, _ = make(rules, SandboxClock(speed=600))
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "half-a", "a"))
    simulator.submit(PipelineRun(2, "p", "both", "main"))
    await until(lambda: done(simulator))
    await simulator.stop()
    await task
    statuses = [run.status for run in simulator.runs()]
    assert statuses == [PipelineStatus.success, PipelineStatus.failed]
    assert "semantic conflict" in (simulator.runs()[1].failure_reason or "")


async def test_same_seed_same_world() -> None:
    outcomes = []
    for _ in range(2):
        rules = CiRules(flake_rate=0.3, duration_seconds=(10, 100), runner_capacity=3)
        simulator, _ = make(rules, SandboxClock(speed=3000), seed=42)
        task = await launch(simulator)
        for n in range(1, 9):
            simulator.submit(PipelineRun(n, "p", f"n{n}", "main"))
        await until(lambda sim=simulator: done(sim))  # type: ignore[misc]
        await simulator.stop()
        await task
        outcomes.append([(r.status, r.duration, r.tree_digest) for r in simulator.runs()])
    assert outcomes[0] == outcomes[1]
    assert len({duration for _, duration, _ in outcomes[0]}) > 1


async def test_cancel_and_retry() -> None:
    clock = SandboxClock(speed=0)
    simulator, recorder = make(CiRules(runner_capacity=1, duration_seconds=(50, 50)), clock)
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "good", "main"))
    simulator.submit(PipelineRun(2, "p", "good", "main"))
    await until(lambda: simulator.stats()["running"] == 1)
    assert simulator.cancel(2)  # pending: canceled at once
    assert simulator.cancel(1)  # running: canceling until its runner stops it
    assert not simulator.cancel(1)
    assert not simulator.cancel(99)
    await until(lambda: (2, "canceled") in recorder.transitions)
    await until(lambda: (1, "canceling") in recorder.transitions)
    assert not simulator.retry(1)  # not finished yet
    clock.advance(CANCELING_SECONDS)
    await until(lambda: (1, "canceled") in recorder.transitions)
    assert simulator.retry(1)
    assert not simulator.retry(1)  # already queued again
    run = simulator.get(1)
    assert run is not None
    await until(lambda: run.status is PipelineStatus.running)
    clock.advance(50)
    await until(lambda: run.status is PipelineStatus.success)
    await simulator.stop()
    await task
    assert run.attempt == 2
    assert [job.retried for job in run.jobs] == [True, False]
    assert run.jobs[0].status is PipelineStatus.canceled
    assert simulator.stats()["canceled"] == 1


async def test_verdict_is_cached_per_commit_and_a_listener_error_does_not_stop_ci() -> None:
    reads: list[str] = []

    def counting_reader(project_key: str, sha: str) -> Mapping[str, bytes]:
        reads.append(sha)
        return read_tree(project_key, sha)

    async def broken_listener(run: PipelineRun) -> None:
        raise RuntimeError("listener bug")

    simulator = CiSimulator(
        CiRules(duration_seconds=(1, 1)), SandboxClock(600), 5, counting_reader, broken_listener
    )
    assert simulator.verdict("p", "good", 1)
    assert not simulator.verdict("p", "bad", 1)
    assert simulator.verdict("p", "good", 2)
    assert reads == ["good", "bad"]
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "good", "main"))
    await until(lambda: done(simulator))
    await simulator.stop()
    await task
    assert reads == ["good", "bad"]
    with pytest.raises(ValueError, match="already submitted"):
        simulator.submit(PipelineRun(1, "p", "good", "main"))


async def test_unreadable_tree_fails_the_pipeline() -> None:
    def missing(project_key: str, sha: str) -> Mapping[str, bytes]:
        raise LookupError(f"no commit {sha}")

    async def ignore(run: PipelineRun) -> None:
        return None

    simulator = CiSimulator(CiRules(duration_seconds=(1, 1)), SandboxClock(600), 1, missing, ignore)
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "gone", "main"))
    await until(lambda: done(simulator))
    await simulator.stop()
    await task
    run = simulator.get(1)
    assert run is not None
    assert run.status is PipelineStatus.failed
    assert "no commit gone" in (run.failure_reason or "")


async def test_a_manual_job_blocks_the_pipeline_until_it_is_played() -> None:
    """``when: manual`` (blocking, ``doc/ci/jobs/job_control.md``): the pipeline reads
    ``manual`` (``lib/gitlab/ci/status/composite.rb``) and never finishes by itself; a manual
    job is not cancelable (``Ci::HasStatus::CANCELABLE_STATUSES``); played
    (``lib/api/ci/jobs.rb`` ``play``), it runs and fails or passes like any job."""
    clock = SandboxClock(speed=0)
    rules = CiRules(runner_capacity=1, duration_seconds=(30, 30), **WHEN_RULES)
    simulator, recorder = make(rules, clock)
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "manual-bad", "main"))
    simulator.submit(PipelineRun(2, "p", "good", "main"))
    blocked, other = simulator.get(1), simulator.get(2)
    assert blocked is not None
    assert other is not None
    await until(lambda: blocked.status is PipelineStatus.manual)
    await until(lambda: other.status is PipelineStatus.running)  # manual takes no runner
    clock.advance(600)
    await until(lambda: other.status is PipelineStatus.success)
    assert blocked.status is PipelineStatus.manual
    assert not simulator.cancel(1)
    job = blocked.current_job
    assert job is not None
    assert job.status is PipelineStatus.manual
    assert not simulator.play(other.jobs[0].id)  # a finished job is not playable
    assert simulator.play(job.id)
    assert not simulator.play(job.id)
    await until(lambda: blocked.status is PipelineStatus.running)
    clock.advance(30)
    await until(lambda: blocked.status is PipelineStatus.failed)
    await simulator.stop()
    await task
    assert [status for pid, status in recorder.transitions if pid == 1] == [
        "manual",
        "pending",
        "running",
        "failed",
    ]


async def test_a_delayed_job_is_scheduled_then_runs() -> None:
    """``when: delayed`` with ``start_in`` (``doc/ci/jobs/job_control.md``): ``scheduled``
    until its time, then pending and running; playing it starts it at once."""
    clock = SandboxClock(speed=0)
    rules = CiRules(duration_seconds=(10, 10), delay_seconds=120, **WHEN_RULES)
    simulator, recorder = make(rules, clock)
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "delayed", "main"))
    simulator.submit(PipelineRun(2, "p", "delayed", "main"))
    late, played = simulator.get(1), simulator.get(2)
    assert late is not None
    assert played is not None
    await until(lambda: late.status is PipelineStatus.scheduled)
    await until(lambda: played.status is PipelineStatus.scheduled)
    clock.advance(119)
    assert simulator.play(played.jobs[0].id)
    await until(lambda: played.status is PipelineStatus.running)
    assert late.status is PipelineStatus.scheduled
    clock.advance(1)
    await until(lambda: late.status is PipelineStatus.running)
    clock.advance(10)
    await until(lambda: done(simulator))
    await simulator.stop()
    await task
    assert [status for pid, status in recorder.transitions if pid == 1] == [
        "scheduled",
        "pending",
        "running",
        "success",
    ]
    assert played.status is PipelineStatus.success


async def test_a_scheduled_pipeline_can_be_canceled() -> None:
    """``scheduled`` is cancelable (``Ci::HasStatus::CANCELABLE_STATUSES``)."""
    clock = SandboxClock(speed=0)
    simulator, _ = make(CiRules(**WHEN_RULES), clock)
    task = await launch(simulator)
    simulator.submit(PipelineRun(1, "p", "delayed", "main"))
    run = simulator.get(1)
    assert run is not None
    await until(lambda: run.status is PipelineStatus.scheduled)
    assert simulator.cancel(1)
    clock.advance(3600)
    await until(lambda: run.status is PipelineStatus.canceled)
    await simulator.stop()
    await task
    assert run.status is PipelineStatus.canceled
