"""``merge-assist serve --standalone``: one user's instance on their own machine.

Binds to the loopback interface only (nobody else on the network can reach it), keeps its data
in the user's data folder, and opens the dashboard in the browser once the server listens. It
refuses to start unless it is bound to a GitLab project (``binding``): locks and messages are
shared through it.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
import webbrowser

import typer
import uvicorn

from merge_assist.kit import migrate
from merge_assist.kit.body_limit import WS_MAX_MESSAGE_BYTES
from merge_assist.kit.log_setup import configure_logging
from merge_assist.kit.settings import Settings, get_settings
from merge_assist.standalone.binding import binding_problem
from merge_assist.standalone.paths import LOOPBACK, UnsafeDataFolder, standalone_settings

_LOCALHOST_NAMES = frozenset({"localhost", "localhost."})
_READY_TIMEOUT_SECONDS = 30.0


class NotLoopback(ValueError):
    """A standalone instance was asked to listen on a non-loopback address."""


def loopback_host(host: str | None) -> str:
    """The address to bind: loopback only (``127.0.0.1`` when unset)."""
    if host is None or not host.strip():
        return LOOPBACK
    text = host.strip()
    if text.lower() in _LOCALHOST_NAMES:
        return LOOPBACK
    try:
        loopback = ipaddress.ip_address(text.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopback(
            f"Standalone mode only listens on this machine (127.0.0.1 or ::1), not on {text!r}: "
            "it serves one user. Run 'merge-assist serve' without --standalone for a shared "
            "server."
        )
    return text.strip("[]")


def should_open_browser(no_browser: bool) -> bool:
    """Open the browser unless told not to or running under CI (``CI`` set)."""
    under_ci = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
    return not no_browser and not under_ci


def serve_standalone(host: str | None, port: int | None, *, no_browser: bool = False) -> None:
    """Check the address and data folder, migrate, then serve until interrupted."""
    try:
        bind = loopback_host(host)
    except NotLoopback as refused:
        raise typer.BadParameter(str(refused), param_hint="--host") from None
    try:
        settings = standalone_settings(get_settings())
    except UnsafeDataFolder as refused:
        raise typer.BadParameter(str(refused), param_hint="MERGE_ASSIST_DATA_DIR") from None
    problem = binding_problem(settings)
    if problem is not None:
        typer.echo(f"Error: {problem}", err=True)
        raise typer.Exit(2)
    browser = should_open_browser(no_browser)
    run_standalone(settings, bind, port or settings.port, open_browser=browser)


def run_standalone(settings: Settings, host: str, port: int, *, open_browser: bool) -> None:
    """Migrate the SQLite database and serve the API and dashboard on ``host:port``."""
    from merge_assist.server.app import create_app  # the app imports every feature: load it late

    configure_logging(settings.log_level, settings.log_format)
    migrate.upgrade(settings.effective_database_url)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            proxy_headers=False,
            ws_max_size=WS_MAX_MESSAGE_BYTES,
        )
    )
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    threading.Thread(
        target=_announce_when_ready, args=(server, url, open_browser), daemon=True
    ).start()
    server.run()


def _announce_when_ready(server: uvicorn.Server, url: str, open_browser: bool) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > deadline or server.should_exit:
            return
        time.sleep(0.1)
    typer.echo(f"Merge Assist (standalone) is at {url}")
    if open_browser:
        webbrowser.open(url)
