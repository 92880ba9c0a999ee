"""Process commands: ``serve``, ``api`` and ``demo`` (the roles are in ``server.roles``)."""

from __future__ import annotations

import os

import typer

from merge_assist.server.processes import run_api


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
            from merge_assist.server.standalone import serve_standalone

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
        log_format: str | None = typer.Option(
            None,
            "--log-format",
            help="auto (default, MERGE_ASSIST_LOG_FORMAT): readable lines and a running summary "
            "at a terminal, JSON lines otherwise; json; text.",
        ),
    ) -> None:
        """Start the GitLab sandbox with a demo project and the product against it."""
        from merge_assist.server.demo import run_demo

        if log_format is not None:
            if log_format not in {"auto", "json", "text"}:
                raise typer.BadParameter("use auto, json or text", param_hint="--log-format")
            os.environ["MERGE_ASSIST_LOG_FORMAT"] = log_format
        run_demo(port, keep)
