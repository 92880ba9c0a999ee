"""Prometheus metrics of the GitLab client (one sample per HTTP request sent)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

GITLAB_CALLS = Counter(
    "merge_assist_gitlab_calls_total",
    "HTTP requests sent to GitLab, by operation and outcome (HTTP status, timeout, error)",
    ["operation", "status"],
)
GITLAB_LATENCY = Histogram(
    "merge_assist_gitlab_call_seconds", "Latency of HTTP requests sent to GitLab", ["operation"]
)
GITLAB_RETRIES = Counter(
    "merge_assist_gitlab_retries_total",
    "GitLab requests sent again after a failure or a 429",
    ["operation", "reason"],
)
GITLAB_ERRORS = Counter(
    "merge_assist_gitlab_errors_total",
    "GitLab calls that failed for their caller (after retries), by operation and error",
    ["operation", "error"],
)
