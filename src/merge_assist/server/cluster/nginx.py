"""The cluster's nginx: its configuration (pure) and where the binary is.

The API processes share one upstream (round robin; a refused connection moves the request to
the next one), the webhook path goes to the listener, and the live-updates socket is upgraded
(``Upgrade``/``Connection`` passed on, long read timeout) so dashboards keep their socket.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

UPSTREAM_HEADER = "X-Merge-Assist-Upstream"
"""The answering API process (``host:port``) on every answer, so a test knows which one it got."""
MISSING = (
    "nginx is not installed: the cluster needs it as its load balancer "
    "(scripts/install --test installs the Debian package nginx)."
)


@dataclass(frozen=True)
class ProxyLayout:
    """Where nginx listens, what it forwards to and where it keeps its files."""

    folder: Path  # its configuration, pid file, logs and temporary files
    port: int
    api_ports: tuple[int, ...]
    listener_port: int
    as_root: bool  # started by root: its workers keep root (the folder is root's)


def nginx_binary() -> str | None:
    """The nginx executable, or None when it is not installed."""
    return shutil.which("nginx") or next(
        (str(p) for p in (Path("/usr/sbin/nginx"),) if p.exists()), None
    )


def _headers(indent: str) -> str:
    lines = [
        "proxy_set_header Host $http_host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ]
    return "\n".join(indent + line for line in lines)


def nginx_config(layout: ProxyLayout) -> str:
    """The whole ``nginx.conf`` of the cluster (foreground, loopback only)."""
    folder = layout.folder
    apis = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in layout.api_ports
    )
    temp = "\n".join(
        f"    {kind}_temp_path {folder / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Written by merge_assist.server.cluster; rewritten at every start.
{"user root;" if layout.as_root else ""}
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;

events {{
    worker_connections 512;
}}

http {{
    access_log {folder / "access.log"};
{temp}
    client_max_body_size 256m;  # the vault's uploads (vault_max_upload_bytes) fit
    proxy_connect_timeout 2s;
    proxy_next_upstream error timeout;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' close;
    }}

    upstream merge_assist_api {{
{apis}
    }}

    upstream merge_assist_listener {{
        server 127.0.0.1:{layout.listener_port};
    }}

    server {{
        listen 127.0.0.1:{layout.port};
        add_header {UPSTREAM_HEADER} $upstream_addr always;

        location /api/ws/ {{
            proxy_pass http://merge_assist_api;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
{_headers(" " * 12)}
            proxy_read_timeout 1h;
            proxy_buffering off;
        }}

        location /webhook/ {{
            proxy_pass http://merge_assist_listener;
{_headers(" " * 12)}
        }}

        location / {{
            proxy_pass http://merge_assist_api;
{_headers(" " * 12)}
        }}
    }}
}}
"""


def prepare(layout: ProxyLayout) -> Path:
    """Write the configuration and make its folders; the path of ``nginx.conf``."""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (layout.folder / "tmp" / kind).mkdir(parents=True, exist_ok=True)
    config = layout.folder / "nginx.conf"
    config.write_text(nginx_config(layout), encoding="utf-8")
    return config


def nginx_command(binary: str, layout: ProxyLayout) -> list[str]:
    """nginx in the foreground on this configuration (``-e``: no write to /var/log)."""
    folder = str(layout.folder)
    config = str(layout.folder / "nginx.conf")
    return [binary, "-p", folder, "-e", str(layout.folder / "error.log"), "-c", config]
