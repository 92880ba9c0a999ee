"""Prometheus metrics shared by the features."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
