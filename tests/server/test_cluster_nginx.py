"""The cluster's nginx configuration: checked by nginx itself (``nginx -t``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from merge_assist.server.cluster import nginx
from tests.cluster.conftest import require_nginx


def layout(tmp_path: Path) -> nginx.ProxyLayout:
    return nginx.ProxyLayout(
        folder=tmp_path / "nginx", port=18080, api_ports=(18081, 18082), listener_port=18083,
        as_root=False,
    )  # fmt: skip


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    require_nginx()
    binary = nginx.nginx_binary()
    assert binary is not None
    plan = layout(tmp_path)
    nginx.prepare(plan)
    checked = subprocess.run(
        [*nginx.nginx_command(binary, plan), "-t"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_apis_are_balanced_the_socket_upgraded_and_the_webhook_goes_to_the_listener(
    tmp_path: Path,
) -> None:
    config = nginx.nginx_config(layout(tmp_path))
    api_upstream = config.split("upstream merge_assist_api {")[1].split("}")[0]
    assert "127.0.0.1:18081" in api_upstream
    assert "127.0.0.1:18082" in api_upstream
    socket = config.split("location /api/ws/ {")[1].split("}")[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in socket
    assert "proxy_set_header Connection $connection_upgrade;" in socket
    assert "proxy_http_version 1.1;" in socket
    webhook = config.split("location /webhook/ {")[1].split("}")[0]
    assert "proxy_pass http://merge_assist_listener;" in webhook
    assert "listen 127.0.0.1:18080;" in config  # loopback only
    assert "user root;" not in config
