"""``/metrics``: the names follow Prometheus conventions, and each metric moves when its event
happens (read back from ``/metrics`` as Prometheus would)."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.gitlab import GitLabClient, GitLabUnavailable, RetryPolicy
from merge_assist.kit.bus import InProcessBus
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.engine.actions import RetryPipeline, RunPipeline
from merge_assist.merging.persistence import queue_metrics
from merge_assist.merging.persistence.models import MergeHistoryEntry
from merge_assist.server.roles import serve_role_metrics
from merge_assist.workers import heartbeats
from merge_assist.workers.worker import Worker
from tests.health.alerts.receivers import free_port
from tests.merging.api.queue_rows import add_mr
from tests.workers.conftest import Clock, RecordingRun
from tests.workers.factories import make_project

Sessions = async_sessionmaker[AsyncSession]
FORBIDDEN_LABELS = {"id", "iid", "user", "username", "sha", "url", "path", "token", "worker_id"}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    """Every sample of ``/metrics``: (name, sorted labels) -> value."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_every_metric_of_the_product_follows_the_conventions() -> None:
    ours = [f for f in REGISTRY.collect() if f.name.startswith("merge_assist_")]
    assert len(ours) >= 17
    for family in ours:
        assert re.fullmatch(r"merge_assist_[a-z0-9_]+", family.name)
        assert family.documentation, family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        if family.type == "counter":
            assert not family.name.endswith("_total")  # the client adds _total to the samples
    others = [f.name for f in REGISTRY.collect() if f.type in ("counter", "histogram", "gauge")]
    assert all(name.startswith(("merge_assist_", "python_", "process_")) for name in others), others
    for collector_name, collector in REGISTRY._names_to_collectors.items():
        labels = set(getattr(collector, "_labelnames", ()))
        assert not labels & FORBIDDEN_LABELS, (collector_name, labels)


async def test_state_gauges_come_from_the_database_at_each_scrape(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    project = await make_project(sessions)
    await add_mr(sessions, project.id, 1, state="waiting")
    await add_mr(sessions, project.id, 2, state="waiting")
    await add_mr(sessions, project.id, 3, state="ready")
    async with unit_of_work(sessions) as session:
        await heartbeats.beat(session, "worker-metrics-1", "worker", now=utcnow())
        await heartbeats.beat(session, "watcher-old", "watcher", now=utcnow() - timedelta(hours=1))
    samples = await scrape(client)
    path = project.path_with_namespace
    depth = "merge_assist_queue_depth"
    assert value(samples, depth, project=path, target_branch="main", state="waiting") == 2
    assert value(samples, depth, project=path, target_branch="main", state="ready") == 1
    assert value(samples, "merge_assist_processes_alive", role="worker") == 1
    assert value(samples, "merge_assist_processes_alive", role="watcher") == 0
    assert ("merge_assist_webhook_inbox_unprocessed", ()) in samples
    assert value(samples, "merge_assist_alerts_open") == 0


async def test_webhook_deliveries_and_gitlab_errors_are_counted(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    refused = await client.post("/webhook/gitlab", json={"object_kind": "merge_request"})
    assert refused.status_code == 401
    gitlab = GitLabClient("http://127.0.0.1:9", "glpat-unused", retry=RetryPolicy(max_retries=0))
    async with gitlab:
        with pytest.raises(GitLabUnavailable):
            await gitlab.current_user()
    after = await scrape(client)
    rejected = "merge_assist_webhook_deliveries_total"
    assert (
        value(after, rejected, outcome="rejected")
        == value(before, rejected, outcome="rejected") + 1
    )
    errors = "merge_assist_gitlab_errors_total"
    labels = {"operation": "user.current", "error": "gitlab_unavailable"}
    assert value(after, errors, **labels) == value(before, errors, **labels) + 1


async def test_merges_rejections_time_to_merge_and_pipelines_are_counted_per_strategy(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    project = await make_project(sessions)
    now = utcnow()
    await add_mr(sessions, project.id, 5, recognised_at=now - timedelta(minutes=15))
    entries = [
        MergeHistoryEntry(project_id=project.id, target_branch="main", event="merged", iids=[5]),
        MergeHistoryEntry(project_id=project.id, target_branch="main", event="rejected", iids=[6]),
    ]
    performed = [
        RunPipeline(attempt_id=1, ref="b", sha="0" * 40),
        RetryPipeline(pipeline_id=3, sha="0" * 40, retry=1, retries_allowed=1),
    ]
    before = await scrape(client)
    async with sessions() as session:
        facts = await queue_metrics.step_metrics(
            session, strategy="train", entries=entries, performed=performed, now=now
        )
    queue_metrics.observe(facts)
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("merge_assist_merge_requests_merged_total", strategy="train") == 1
    assert grew("merge_assist_merge_requests_rejected_total", strategy="train") == 1
    histogram = "merge_assist_merge_request_time_to_merge_seconds"
    assert grew(f"{histogram}_count", strategy="train") == 1
    assert grew(f"{histogram}_bucket", strategy="train", le="600.0") == 0
    assert grew(f"{histogram}_bucket", strategy="train", le="1200.0") == 1
    assert grew("merge_assist_pipelines_started_total", strategy="train", kind="run") == 1
    assert grew("merge_assist_pipelines_started_total", strategy="train", kind="retry") == 1


async def test_a_worker_counts_its_lease_changes_on_its_own_metrics_port(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    await make_project(sessions)
    bus = InProcessBus(idle_ms=200)
    res = AppResources(settings=settings, engine=engine, sessions=sessions, bus=bus)
    port = free_port()
    server = serve_role_metrics(settings.model_copy(update={"metrics_port": port}))
    assert server is not None
    try:
        clock = Clock(utcnow())
        worker = Worker(res, "worker-lease-metrics", RecordingRun(clock), clock=clock)
        before = _lease_samples(port)
        await worker.tick()
        await worker.stop()
        after = _lease_samples(port)
    finally:
        server.shutdown()
        server.server_close()
        await bus.close()
    assert after["acquired"] == before["acquired"] + 1
    assert after["released"] == before["released"] + 1


def _lease_samples(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    found = {"acquired": 0.0, "released": 0.0, "lost": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "merge_assist_lease_changes_total":
                found[sample.labels["change"]] = sample.value
    return found
