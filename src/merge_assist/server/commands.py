"""Process commands: ``serve``, ``api`` and ``demo`` (the roles are in ``server.roles``)."""

from __future__ import annotations

import typer
import uvicorn

from merge_assist.kit import migrate
from merge_assist.kit.logging import configure_logging
from merge_assist.kit.settings import get_settings


def run_api(host: str | None, port: int | None, *, background: bool = False) -> None:
    """Migrate the settings database, then serve the API and dashboard until interrupted;
    with ``background`` the process also runs a worker and the watcher."""
    from merge_assist.server.app import create_app

    settings = get_settings()
    if background:
        settings = settings.model_copy(update={"run_background": True})
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
        standalone: bool = typer.Option(
            False,
            "--standalone",
            help="One user on this machine: loopback only, opens the browser.",
        ),
        no_browser: bool = typer.Option(False, "--no-browser", help="Standalone: do not open it."),
    ) -> None:
        """Run everything in one process: API, dashboard, listener, watcher and a worker."""
        if standalone:
            from merge_assist.vault.standalone.launch import serve_standalone

            serve_standalone(host, port, no_browser=no_browser)
            return
        run_api(host, port, background=True)

    @app.command("api")
    def api(
        host: str | None = typer.Option(None, help="Address to bind."),
        port: int | None = typer.Option(None, help="Port."),
    ) -> None:
        """Run the REST API and dashboard only."""
        run_api(host, port)

    @app.command("demo")
    def demo(
        port: int | None = typer.Option(None, help="Dashboard port (default 8080 if free)."),
        keep: bool = typer.Option(False, help="Keep the demo folder after stopping."),
    ) -> None:
        """Start the GitLab sandbox with a demo project and the product against it."""
        from merge_assist.server.demo import run_demo

        run_demo(port, keep)


def create_admin_with_password(username: str, password: str) -> None:
    """Create an administrator in the (freshly configured) settings database."""
    from merge_assist.auth.cli import create_user_now
    from merge_assist.auth.roles import RoleName

    get_settings.cache_clear()
    create_user_now(username, password, [RoleName.admin])
