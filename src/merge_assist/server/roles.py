"""Process commands of the background roles: ``worker``, ``watcher`` and ``listener``.

Each runs one role against the configured database (and Redis, when set) until SIGINT or
SIGTERM, then stops gracefully (a worker releases its leases). They do not migrate the
database: ``merge-assist db upgrade`` (or the ``api``) does, once, before they start.
"""

from __future__ import annotations

import asyncio
import signal
from wsgiref.simple_server import WSGIServer

import typer
import uvicorn

from merge_assist.kit.body_limit import WS_MAX_MESSAGE_BYTES
from merge_assist.kit.db import create_engine
from merge_assist.kit.log_setup import configure_logging
from merge_assist.kit.settings import Settings, get_settings


async def _run_role(settings: Settings, role: str) -> None:
    from merge_assist.health.alerts.evaluator import alerts_duty
    from merge_assist.kit.bus.wake import bus_of
    from merge_assist.kit.live.app_hub import close_live_relay
    from merge_assist.merging.adapter.runtime import close_merge_queue, run_merge_queue
    from merge_assist.server.app import create_resources
    from merge_assist.workers.heartbeats import new_worker_id
    from merge_assist.workers.watcher import Watcher
    from merge_assist.workers.worker import Worker

    serve_role_metrics(settings)
    engine = create_engine(settings.effective_database_url)
    res = create_resources(settings, engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if role == "worker":
            await Worker(res, new_worker_id(role), run_merge_queue).run(stop)
        else:
            await Watcher(res, new_worker_id(role), duties=(alerts_duty,)).run(stop)
    finally:
        await close_merge_queue(res)
        await close_live_relay(res)  # sends the events still queued for dashboards
        await bus_of(res).close()
        await engine.dispose()


def serve_role_metrics(settings: Settings) -> WSGIServer | None:
    """Serve this process's metrics on ``metrics_port`` in a thread (a worker's merges, a
    watcher's alert notifications); the server, or None when not configured."""
    if not settings.metrics_enabled or settings.metrics_port is None:
        return None
    from prometheus_client import start_http_server

    server, _thread = start_http_server(settings.metrics_port, addr=settings.host)
    return server


def run_role(role: str) -> None:
    """Run ``worker`` or ``watcher`` in this process until a stop signal."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_run_role(settings, role))


def register_role_commands(app: typer.Typer) -> None:
    """Add ``worker``, ``watcher`` and ``listener`` to the top-level CLI."""

    @app.command("worker")
    def worker() -> None:
        """Run a worker: owns a share of the projects by lease and runs their merge queues."""
        run_role("worker")

    @app.command("watcher")
    def watcher() -> None:
        """Run the watcher: wakes every project at its polling interval (reconcile)."""
        run_role("watcher")

    @app.command("listener")
    def listener(
        host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port (default 8080)."),
    ) -> None:
        """Receive GitLab webhooks (POST /webhook/gitlab) and serve the health routes."""
        from merge_assist.server.app import create_listener_app

        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format)
        uvicorn.run(
            create_listener_app(settings, process_role="listener"),
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            proxy_headers=False,
            ws_max_size=WS_MAX_MESSAGE_BYTES,
        )
