"""The gitlab-sandbox command: serve prints the URL and the admin token, then answers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from gitlab_sandbox.cli import app


def test_help_lists_serve() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "serve" in result.output


def test_bad_scenario_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"ci": {"runner_capacity": 0}}))
    result = CliRunner().invoke(app, ["serve", "--scenario", str(path)])
    assert result.exit_code == 2
    assert "runner_capacity" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_prints_url_and_tokens(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"users": [{"username": "u"}]}))
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from gitlab_sandbox.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--scenario",
        str(scenario),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith(f"GitLab sandbox: http://127.0.0.1:{port}")
        admin_token = lines[1].rsplit(" ", 1)[-1].strip()
        user_token = lines[2].rsplit(" ", 1)[-1].strip()
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/v4/user", headers={"PRIVATE-TOKEN": user_token}
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert answer.json()["username"] == "u"
        stats = httpx.get(
            f"http://127.0.0.1:{port}/-/sandbox/stats",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert stats.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
