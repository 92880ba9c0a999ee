"""The API process: migrate the settings database, then serve the API and dashboard.

Used by ``serve``, ``api`` and ``demo`` (``server.commands``, ``server.demo``).
"""

from __future__ import annotations

import uvicorn

from merge_assist.kit import migrate
from merge_assist.kit.body_limit import WS_MAX_MESSAGE_BYTES
from merge_assist.kit.log_setup import configure_logging
from merge_assist.kit.settings import get_settings


def run_api(host: str | None, port: int | None, *, background: bool = False) -> None:
    """Migrate the settings database, then serve the API and dashboard until interrupted;
    with ``background`` the process also runs a worker and the watcher."""
    from merge_assist.server.app import create_app

    settings = get_settings()
    if background:
        settings = settings.model_copy(update={"run_background": True})
    configure_logging(settings.log_level, settings.log_format)
    migrate.upgrade(settings.effective_database_url)
    uvicorn.run(
        create_app(settings, process_role="api"),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        proxy_headers=False,
        ws_max_size=WS_MAX_MESSAGE_BYTES,
    )
