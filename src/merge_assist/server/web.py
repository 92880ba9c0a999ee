"""Serve the built dashboard (``web/dist``) on ``/``, with the single-page-app fallback.

Mounted after every API router, so it only sees what no route matched: a file of the build, a
dashboard address (``/vault``, ``/queue/12``) answered with ``index.html``, or a 404 for the
API's own prefixes, which never fall back to the page.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# Paths that belong to the server: an unknown one is a JSON 404, never the dashboard page.
SERVER_PREFIXES = ("api", "metrics", "webhook", "docs", "redoc")
# Vite puts content-hashed bundles here: their names change with their content.
HASHED_ASSETS_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Merge Assist</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto;">
<h1>Merge Assist is running</h1>
<p>The dashboard is not built: run <code>scripts/install</code> in the Merge Assist
checkout (it runs <code>npm ci</code> and <code>npm run build</code> in <code>web/</code>),
then reload this page.</p>
<p>The API answers meanwhile: <a href="/docs">API documentation</a>,
<a href="/api/health">health</a>.</p>
</body></html>
"""


def is_server_path(path: str) -> bool:
    """Whether a path (without its leading slash) belongs to the API, metrics or webhooks."""
    first = path.lstrip("/").split("/", 1)[0]
    return first in SERVER_PREFIXES


def is_dashboard_address(path: str) -> bool:
    """Whether a missing file should be answered with ``index.html`` (a client-side route).

    Missing bundles and other names with an extension stay 404s, so a stale page asking for an
    old bundle gets an honest error instead of HTML served as JavaScript.
    """
    parts = PurePosixPath(path.lstrip("/")).parts
    if parts and parts[0] == HASHED_ASSETS_DIR:
        return False
    return not (parts and "." in parts[-1])


class DashboardFiles(StaticFiles):
    """The build's files, ``index.html`` for dashboard addresses, and cache headers.

    A WebSocket no route matched (live updates on a server without them) is closed by
    ``StaticFiles`` itself, so the dashboard's client sees a refusal, not a hang.
    """

    def __init__(self, dist_dir: Path) -> None:
        super().__init__(directory=dist_dir, check_dir=False)
        self.dist_dir = dist_dir

    async def check_config(self) -> None:
        """Accept a missing build: requests get the "not built" page until it appears."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Answer one request for ``path`` (relative to the mount, no leading slash)."""
        if is_server_path(path):
            raise HTTPException(status_code=404)
        if not (self.dist_dir / "index.html").is_file():
            return HTMLResponse(
                NOT_BUILT_PAGE, status_code=503, headers={"Cache-Control": REVALIDATE}
            )
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not is_dashboard_address(path):
                raise
            response = await super().get_response("index.html", scope)
            response.headers["Cache-Control"] = REVALIDATE
            return response
        hashed = PurePosixPath(path).parts[:1] == (HASHED_ASSETS_DIR,)
        response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        return response


def mount_dashboard(app: FastAPI, dist_dir: Path) -> None:
    """Serve the dashboard on ``/``; call it after every router so the API always wins."""
    app.mount("/", DashboardFiles(dist_dir), name="dashboard")
