"""Process commands: ``serve``, ``api`` and (until the engine lands) ``demo``."""

from __future__ import annotations

import typer
import uvicorn

from merge_assist.kit import migrate
from merge_assist.kit.logging import configure_logging
from merge_assist.kit.settings import get_settings


def _run_api(host: str | None, port: int | None) -> None:
    from merge_assist.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level)
    migrate.upgrade(settings.effective_database_url)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        proxy_headers=False,
    )


def register_serve_commands(app: typer.Typer) -> None:
    """Add the process commands to the top-level CLI."""

    @app.command("serve")
    def serve(
        host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port (default 8080)."),
    ) -> None:
        """Run everything in one process (API now; engine roles as they land)."""
        _run_api(host, port)

    @app.command("api")
    def api(
        host: str | None = typer.Option(None, help="Address to bind."),
        port: int | None = typer.Option(None, help="Port."),
    ) -> None:
        """Run the REST API and dashboard only."""
        _run_api(host, port)

    @app.command("demo")
    def demo(
        port: int | None = typer.Option(None, help="Port."),
    ) -> None:
        """Start the GitLab sandbox and the product with demo data (merge engine coming)."""
        typer.echo("The merge-queue demo is coming with the merge engine; serving the API now.")
        _run_api("127.0.0.1", port)
