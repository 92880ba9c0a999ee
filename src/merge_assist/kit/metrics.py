"""Prometheus metrics shared by the features (names: ``docs/operations.md``, "Metrics").

Conventions: every name starts with ``merge_assist_``; counters end in ``_total``, durations
are ``_seconds`` histograms (base units); labels take a few known values each (never an id, a
user or a raw path). Event counters live in the process where the event happens (a worker
counts its merges): scrape every process (``metrics_port`` for workers and watchers). The
state gauges are read from the database when ``/metrics`` is scraped, so any API or listener
process reports the whole product's state.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "merge_assist_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "merge_assist_http_request_seconds", "HTTP request latency", ["method", "route"]
)
ALERT_NOTIFICATIONS = Counter(
    "merge_assist_alert_notifications_total",
    "Alert notifications, by channel, kind (firing, resolved, test) and outcome",
    ["channel", "kind", "status"],
)
WEBHOOK_DELIVERIES = Counter(
    "merge_assist_webhook_deliveries_total",
    "GitLab webhook deliveries received, by outcome "
    "(accepted, duplicate, ignored, rejected, throttled)",
    ["outcome"],
)
LEASE_CHANGES = Counter(
    "merge_assist_lease_changes_total",
    "Project leases taken, released and lost by this worker",
    ["change"],
)
MERGE_REQUESTS_MERGED = Counter(
    "merge_assist_merge_requests_merged_total",
    "Merge requests the queue merged, by strategy",
    ["strategy"],
)
MERGE_REQUESTS_REJECTED = Counter(
    "merge_assist_merge_requests_rejected_total",
    "Merge requests the queue rejected (taken out for good), by strategy",
    ["strategy"],
)
TIME_TO_MERGE = Histogram(
    "merge_assist_merge_request_time_to_merge_seconds",
    "From the queue recognising a merge request to merging it, by strategy",
    ["strategy"],
    buckets=(60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800),
)
PIPELINES_STARTED = Counter(
    "merge_assist_pipelines_started_total",
    "Pipelines the queue started (run) or retried, by strategy",
    ["strategy", "kind"],
)

# State read from the database at scrape time (health/metrics_state.py).
QUEUE_DEPTH = Gauge(
    "merge_assist_queue_depth",
    "Merge requests in a queue, by project, target branch and queue state",
    ["project", "target_branch", "state"],
)
INBOX_UNPROCESSED = Gauge(
    "merge_assist_webhook_inbox_unprocessed",
    "Webhook events stored but not yet reconciled",
)
PROCESSES_ALIVE = Gauge(
    "merge_assist_processes_alive",
    "Processes seen within three heartbeats and not stopped, by role",
    ["role"],
)
ALERTS_OPEN = Gauge("merge_assist_alerts_open", "Alert incidents firing now")
