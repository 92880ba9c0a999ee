"""``merge-assist serve --standalone``: loopback only, browser rules, a real start."""

# ruff: noqa: S104 - the tests hand the command public addresses on purpose, to see them refused

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from merge_assist.cli import app
from merge_assist.kit.settings import get_settings
from merge_assist.server.standalone import NotLoopback, loopback_host, should_open_browser


@pytest.mark.parametrize(
    ("given", "bound"),
    [
        (None, "127.0.0.1"),
        ("", "127.0.0.1"),
        ("localhost", "127.0.0.1"),
        ("127.0.0.2", "127.0.0.2"),
        ("::1", "::1"),
        ("[::1]", "::1"),
    ],
)
def test_loopback_addresses_are_accepted(given: str | None, bound: str) -> None:
    assert loopback_host(given) == bound


@pytest.mark.parametrize("given", ["0.0.0.0", "::", "192.168.1.10", "example.com", "10.0.0.1"])
def test_other_addresses_are_refused(given: str) -> None:
    with pytest.raises(NotLoopback, match="only listens on this machine"):
        loopback_host(given)


def test_serve_standalone_refuses_a_public_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(
        app, ["serve", "--standalone", "--host", "0.0.0.0"], terminal_width=300
    )
    assert result.exit_code == 2
    assert "only listens on this machine" in " ".join(result.output.split())
    assert not (tmp_path / "data").exists()  # refused before touching anything


def test_serve_standalone_refuses_to_start_without_a_gitlab_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MERGE_ASSIST_GITLAB_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("MERGE_ASSIST_STANDALONE_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["serve", "--standalone", "--no-browser"], terminal_width=300
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "set MERGE_ASSIST_STANDALONE_PROJECT" in said
    assert not (tmp_path / "data" / "merge-assist.sqlite3").exists()  # refused before migrating


def test_the_browser_is_skipped_under_ci_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert should_open_browser(no_browser=False) is True
    assert should_open_browser(no_browser=True) is False
    monkeypatch.setenv("CI", "true")
    assert should_open_browser(no_browser=False) is False
    monkeypatch.setenv("CI", "false")
    assert should_open_browser(no_browser=False) is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_standalone_instance_starts_on_loopback_with_its_data_in_place(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "MERGE_ASSIST_DATA_DIR": str(data),
        "CI": "true",
        "MERGE_ASSIST_GITLAB_URL": "http://127.0.0.1:9",  # not called before a user acts
        "MERGE_ASSIST_STANDALONE_PROJECT": "shop/parts",
    }
    env.pop("MERGE_ASSIST_DATABASE_URL", None)
    env.pop("MERGE_ASSIST_SECRET_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "merge_assist", "serve", "--standalone", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240  # generous: a loaded machine starts slowly
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.terminate()  # so reading its output cannot block
                    process.wait(timeout=30)
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"the standalone instance did not start:\n{output}")
                time.sleep(0.2)
        assert answer.status_code == 200
        assert (data / "merge-assist.sqlite3").is_file()
        assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()
