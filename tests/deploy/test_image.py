"""The container image: hadolint on the Dockerfile, what it builds from and runs as, the build
context, and its entry point and health check run for real (the machine has no container
runtime: the image itself is built only where one exists, docs/deployment.md)."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from merge_assist.health.endpoints import router as health_router
from tests.deploy.conftest import DEPLOY, DOCKERFILE, REPO, is_cli_invocation, tool

INSTRUCTION = re.compile(r"^(FROM|RUN|COPY|ENV|USER|HEALTHCHECK|ENTRYPOINT|CMD|LABEL|VOLUME)\b(.*)")


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        match = INSTRUCTION.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2).strip()))
    return found


def test_hadolint_finds_nothing() -> None:
    hadolint = tool("hadolint")
    result = subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The one rule turned off is turned off beside its line, with its reason.
    ignores = re.findall(r"# hadolint ignore=(\S+)", DOCKERFILE.read_text())
    assert ignores == ["DL3008"]


def test_base_images_are_pinned_releases() -> None:
    images = [args.split()[0] for kind, args in _instructions() if kind == "FROM"]
    assert len(images) == 4  # web, uv, python, runtime
    for image in images:
        _name, _, tag = image.partition(":")
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{image}: pin a patch release"
    assert images[0].startswith("node:20.")
    assert images[2] == images[3]
    assert images[3].startswith("python:3.11.")


def test_python_comes_from_the_lock_without_the_dev_group() -> None:
    runs = [args for kind, args in _instructions() if kind == "RUN"]
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs
    assert all("--frozen" in run and "--no-dev" in run for run in syncs)
    assert any("npm ci" in run for run in runs)
    # uv itself comes from a pinned image, like the bases.
    uv_image = next(
        args for kind, args in _instructions() if kind == "FROM" and "astral-sh/uv" in args
    )
    assert re.fullmatch(r"ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+", uv_image.split()[0])


def test_runs_as_a_user_with_one_writable_volume_and_a_real_command() -> None:
    instructions = _instructions()
    users = [args for kind, args in instructions if kind == "USER"]
    assert users[-1] == "10001:10001"
    assert ("VOLUME", '["/data"]') in instructions
    env = " ".join(args for kind, args in instructions if kind == "ENV")
    for setting in ("HOME=/home/merge-assist", "TMPDIR=/tmp", "MERGE_ASSIST_DATA_DIR=/data"):
        assert setting in env
    cmd = next(args for kind, args in instructions if kind == "CMD")
    assert is_cli_invocation(eval(cmd))  # noqa: S307 - the Dockerfile's own JSON list
    labels = " ".join(args for kind, args in instructions if kind == "LABEL")
    for label in ("title", "description", "version", "revision", "created", "licenses"):
        assert f"org.opencontainers.image.{label}=" in labels


def test_healthcheck_calls_the_liveness_route() -> None:
    healthcheck = next(args for kind, args in _instructions() if kind == "HEALTHCHECK")
    assert "merge-assist-healthcheck" in healthcheck
    script = (DEPLOY / "docker" / "healthcheck.py").read_text()
    route = re.search(r'f"http://127\.0\.0\.1:\{port\}(/[a-z/]+)"', script)
    assert route is not None
    assert route.group(1) in {r.path for r in health_router.routes}  # type: ignore[attr-defined]


def _dockerignore_admits(path: str) -> bool:
    """Docker's rule: the last matching line wins (`**` then `!` exceptions)."""
    admitted = True
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern = line.lstrip("!").rstrip("/")
        anywhere = pattern.startswith("**/") and path.split("/")[-1] == pattern[3:]
        if pattern == "**" or path == pattern or path.startswith(pattern + "/") or anywhere:
            admitted = line.startswith("!")
    return admitted


def test_the_build_context_holds_what_the_dockerfile_copies_and_little_else() -> None:
    sources = []
    for kind, args in _instructions():
        if kind == "COPY" and "--from=" not in args:
            parts = [p for p in args.split() if not p.startswith("--")]
            sources += parts[:-1]
    assert sources
    for source in sources:
        assert _dockerignore_admits(source.rstrip("/")), source
        assert (REPO / source).exists(), source
    for kept_out in (
        "web/node_modules",
        "web/dist",
        ".venv",
        "tests",
        "bench",
        ".git",
        "deploy/helm",
    ):
        assert not _dockerignore_admits(kept_out), kept_out


# --- the entry point and the health check, run -----------------------------------------------


def _run_entrypoint(
    tmp_path: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir(exist_ok=True)
    stub = stub_dir / "merge-assist"
    stub.write_text('#!/bin/sh\necho "args: $*"\nenv | grep "^MERGE_ASSIST_" | sort\n')
    stub.chmod(0o755)
    return subprocess.run(
        ["sh", str(DEPLOY / "docker" / "entrypoint.sh"), *args],
        env={"PATH": f"{stub_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_entrypoint_reads_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "database-url").write_text("postgresql+asyncpg://u:p w@db/x\n")
    (tmp_path / "secret-key").write_text("k" * 48)
    result = _run_entrypoint(
        tmp_path,
        {
            "MERGE_ASSIST_DATABASE_URL_FILE": str(tmp_path / "database-url"),
            "MERGE_ASSIST_SECRET_KEY_FILE": str(tmp_path / "secret-key"),
            "MERGE_ASSIST_SECRETS_FILE": "/data/secrets.json",
            "MERGE_ASSIST_LOG_LEVEL": "INFO",
        },
        "db",
        "upgrade",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "args: db upgrade"
    assert "MERGE_ASSIST_DATABASE_URL=postgresql+asyncpg://u:p w@db/x" in lines
    assert f"MERGE_ASSIST_SECRET_KEY={'k' * 48}" in lines
    assert "MERGE_ASSIST_SECRETS_FILE=/data/secrets.json" in lines  # a setting, left alone
    assert not any(
        line.startswith(("MERGE_ASSIST_DATABASE_URL_FILE", "MERGE_ASSIST_SECRET_KEY_FILE"))
        for line in lines
    )


def test_entrypoint_refuses_to_start_without_a_named_secret(tmp_path: Path) -> None:
    result = _run_entrypoint(
        tmp_path, {"MERGE_ASSIST_SECRET_KEY_FILE": str(tmp_path / "absent")}, "api"
    )
    assert result.returncode == 64
    assert "MERGE_ASSIST_SECRET_KEY_FILE names" in result.stderr
    assert "args:" not in result.stdout


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _healthcheck(cmdline: list[str], port: int, tmp_path: Path) -> int:
    """Run healthcheck.py with a stand-in for /proc/1/cmdline."""
    fake = tmp_path / "cmdline"
    fake.write_bytes(b"\0".join(arg.encode() for arg in cmdline) + b"\0")
    script = (
        (DEPLOY / "docker" / "healthcheck.py")
        .read_text()
        .replace('"/proc/1/cmdline"', repr(str(fake)))
    )
    runner = tmp_path / "healthcheck.py"
    runner.write_text(script)
    env = {**os.environ, "MERGE_ASSIST_PORT": str(port)}
    return subprocess.run(
        [sys.executable, str(runner)], env=env, capture_output=True, check=False
    ).returncode


def test_healthcheck_asks_the_http_roles_and_passes_the_others(
    health_server: int, tmp_path: Path
) -> None:
    python = "/opt/merge-assist/bin/python"
    assert _healthcheck([python, "merge-assist", "api"], health_server, tmp_path) == 0
    assert (
        _healthcheck(
            [python, "merge-assist", "listener", "--port", str(health_server)], 1, tmp_path
        )
        == 0
    )
    assert _healthcheck([python, "merge-assist", "api"], 1, tmp_path) == 1  # nothing listens there
    assert _healthcheck([python, "merge-assist", "worker"], 1, tmp_path) == 0
    assert _healthcheck([python, "merge-assist", "db", "upgrade"], 1, tmp_path) == 0


# --- the runtime stage, laid out without a container runtime ---------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_runtime_stage_migrates_serves_and_is_healthy(tmp_path: Path) -> None:
    """What the Dockerfile's stages 3 and 4 make, made here the same way: the environment from
    uv.lock without the dev group and the product installed as a wheel (not the checkout), the
    dashboard at the image's path, the image's variables, a secret from a file; then the entry
    point migrates, serves the API and dashboard, and the HEALTHCHECK passes."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is missing: run scripts/install --test")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "opt-merge-assist"
    sync_env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    sync_env.pop("VIRTUAL_ENV", None)
    for extra in (["--no-install-project"], ["--no-editable"]):
        subprocess.run(
            [uv, "sync", "--frozen", "--no-dev", "--quiet", *extra],
            cwd=source,
            env=sync_env,
            check=True,
            timeout=240,
        )
    assert not (venv / "bin" / "pytest").exists()  # no dev group in the image
    dist = REPO / "web" / "dist"
    if not (dist / "index.html").is_file():
        pytest.fail("web/dist is missing: run scripts/install")
    shutil.copytree(dist, tmp_path / "web")
    (tmp_path / "data").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "secret-key").write_text("s" * 48 + "\n")
    port = _free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path),
        "MERGE_ASSIST_ENVIRONMENT": "production",
        "MERGE_ASSIST_DATA_DIR": str(tmp_path / "data"),
        "MERGE_ASSIST_WEB_DIST_DIR": str(tmp_path / "web"),
        "MERGE_ASSIST_HOST": "127.0.0.1",
        "MERGE_ASSIST_PORT": str(port),
        "MERGE_ASSIST_SECRET_KEY_FILE": str(tmp_path / "secret-key"),
    }
    entrypoint = ["sh", str(DEPLOY / "docker" / "entrypoint.sh")]
    home = tmp_path / "home"
    migrated = subprocess.run(
        [*entrypoint, "db", "upgrade"],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "database at head" in migrated.stdout
    api = subprocess.Popen([*entrypoint, "api"], env=env, cwd=home, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                    break
            except OSError:
                assert api.poll() is None, "the api stopped"
                assert time.monotonic() < deadline, "the api did not answer in 90 s"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert page.read() == (dist / "index.html").read_bytes()  # the dashboard
        cmdline = [str(venv / "bin" / "python"), str(venv / "bin" / "merge-assist"), "api"]
        assert _healthcheck(cmdline, port, tmp_path) == 0
    finally:
        api.terminate()
        api.wait(timeout=30)
