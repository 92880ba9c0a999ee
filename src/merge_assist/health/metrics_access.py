"""Who may read ``/metrics``: anyone, the holder of ``metrics_token``, or nobody (turned off)."""

from __future__ import annotations

import hmac

from merge_assist.kit.errors import NotAuthenticated, NotFound
from merge_assist.kit.settings import Settings


def check_metrics_access(settings: Settings, authorization: str) -> None:
    """Refuse a metrics request: 404 when turned off, 401 without the configured token."""
    if not settings.metrics_enabled:
        raise NotFound("Metrics are turned off on this server (MERGE_ASSIST_METRICS_ENABLED).")
    if settings.metrics_token is None or not settings.metrics_token.get_secret_value():
        return
    scheme, _, sent = authorization.partition(" ")
    expected = settings.metrics_token.get_secret_value().encode("utf-8")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        sent.strip().encode("utf-8", "replace"), expected
    ):
        raise NotAuthenticated(
            "Metrics need the metrics token: send 'Authorization: Bearer <token>' "
            "(MERGE_ASSIST_METRICS_TOKEN).",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
