"""``merge-assist demo``: the GitLab sandbox with a demo project, and the product against it.

The sandbox runs as its own process (``gitlab-sandbox serve``): the product talks to it over
HTTP only, exactly as it would to a real GitLab. Everything lives in a fresh folder that is
removed when the demo stops; the admin password is generated and shown once.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import typer
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.settings import Settings, get_settings
from merge_assist.server.demo_stream import MergeRequestStream
from merge_assist.server.demo_world import (
    CAM_FOLDER,
    CAM_PROJECT,
    GROUP,
    PROJECT,
    demo_scenario,
)
from merge_assist.server.processes import run_api


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if it is free on loopback, else any free port."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = probe.getsockname()[1]
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def sandbox_command() -> list[str]:
    script = Path(sys.executable).with_name("gitlab-sandbox")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gitlab_sandbox.cli"]


def start_sandbox(
    folder: Path,
    port: int,
    bot_token: str,
    admin_token: str,
    people_tokens: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start the sandbox with the demo world and wait until it answers."""
    scenario = folder / "scenario.json"
    world = demo_scenario(bot_token, people_tokens)
    scenario.write_text(json.dumps(world), encoding="utf-8")
    log = (folder / "sandbox.log").open("wb")
    # A stop signal arriving while Popen runs would leave a sandbox nobody knows of: until the
    # process is ours to stop, signals are only recorded, then acted on.
    deferred = _DeferredStop()
    try:
        process = subprocess.Popen(
            [
                *sandbox_command(),
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(folder / "gitlab"),
                "--scenario",
                str(scenario),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GITLAB_SANDBOX_ADMIN_TOKEN": admin_token},
        )
    except BaseException:
        deferred.restore()
        raise
    try:
        deferred.restore()
        deferred.raise_if_stopped()
        _wait_until_answering(process, port, bot_token, folder)
    except BaseException:  # a failed start, Ctrl+C or SIGTERM: never leave it running
        _stop_process(process)
        raise
    return process


class _DeferredStop:
    """SIGTERM, SIGHUP and SIGINT only recorded until ``restore()``; then the handlers in place
    before (the demo's: they end it) are back, and ``raise_if_stopped`` acts on a recorded one."""

    SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous = {kind: signal.signal(kind, self._record) for kind in self.SIGNALS}

    def _record(self, signum: int, _frame: object) -> None:
        self.received = signum

    def restore(self) -> None:
        for kind, handler in self._previous.items():
            signal.signal(kind, handler)

    def raise_if_stopped(self) -> None:
        if self.received == signal.SIGINT:
            raise KeyboardInterrupt
        if self.received is not None:
            raise SystemExit(128 + self.received)


def _wait_until_answering(
    process: subprocess.Popen[bytes], port: int, bot_token: str, folder: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the GitLab sandbox stopped; see {folder / 'sandbox.log'}")
        try:
            answer = httpx.get(
                f"http://127.0.0.1:{port}/api/v4/user",
                headers={"PRIVATE-TOKEN": bot_token},
                timeout=2,
            )
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the GitLab sandbox did not start within 60 seconds")


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def onboard_demo_project() -> str:
    """Onboard the demo project (batch strategy) in the settings database, and the CAM project
    with its vault (synced from GitLab); the queue's summary line."""
    import asyncio

    from merge_assist.kit.db import create_engine, create_sessionmaker, unit_of_work
    from merge_assist.projects import service
    from merge_assist.projects.gitlab_access import gitlab_client_factory

    get_settings.cache_clear()
    settings = get_settings()
    gitlab = gitlab_client_factory(settings)
    actor = service.Actor(id=None, name="demo")

    async def work() -> str:
        engine = create_engine(settings.effective_database_url)
        try:
            async with unit_of_work(create_sessionmaker(engine, settings)) as session:
                project = await service.onboard(
                    session,
                    settings,
                    gitlab,
                    actor,
                    PROJECT,
                    {
                        "strategy": "batch",
                        "batch_size": 4,
                        "polling_interval_seconds": 15,
                        "max_rejections": 1,
                    },
                )
                cam = await service.onboard(session, settings, gitlab, actor, CAM_PROJECT, {})
                await _create_cam_vault(session, settings, cam.id)
                return f"{project.path_with_namespace} (project {project.id}, batch strategy)"
        finally:
            await engine.dispose()

    return asyncio.run(work())


async def _create_cam_vault(session: AsyncSession, settings: Settings, project_id: int) -> None:
    """The vault ``cam-programs`` on the CAM project's folder, with the programs in it."""
    from merge_assist.projects.gitlab_access import gitlab_client_factory
    from merge_assist.vault import names, service
    from merge_assist.vault.backends import storage_for
    from merge_assist.vault.models import VaultBackend

    vault = await service.create_vault(
        session,
        name="cam-programs",
        backend=VaultBackend.gitlab,
        project_id=project_id,
        folder=CAM_FOLDER,
        actor_name="demo",
    )
    storage = await storage_for(session, settings, vault, gitlab=gitlab_client_factory(settings))
    await service.sync(
        session,
        vault,
        storage,
        actor_name="demo",
        allowed_extensions=names.parse_extensions(settings.vault_allowed_extensions),
    )


def _stop_on_termination() -> None:
    """SIGTERM and SIGHUP end the demo like Ctrl+C does: the cleanup below runs.

    Python's default for them ends the process at once, and uvicorn, after its own graceful
    stop, raises the signal again with the handler it found: that must be this one, or the
    sandbox process and the demo folder would be left behind."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for kind in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(kind, stop)


def create_admin_with_password(username: str, password: str) -> None:
    """Create an administrator in the (freshly configured) settings database."""
    from merge_assist.audit.sink import AuditLogSink
    from merge_assist.auth.cli import create_user_now
    from merge_assist.auth.roles import RoleName

    get_settings.cache_clear()
    create_user_now(username, password, [RoleName.admin], AuditLogSink(unattributed_actor="cli"))


def run_demo(port: int | None, keep: bool, stream_interval: float = 45.0) -> None:
    """Start sandbox and product, print where to go, serve until interrupted."""
    _stop_on_termination()
    folder = Path(tempfile.mkdtemp(prefix="merge-assist-demo-"))
    bot_token, admin_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    people = {name: f"glpat-{secrets.token_urlsafe(20)}" for name in ("alice", "bob")}
    sandbox_port, product_port = free_port(8929), free_port(port or 8080)
    sandbox: subprocess.Popen[bytes] | None = None
    stream = MergeRequestStream(
        f"http://127.0.0.1:{sandbox_port}", admin_token, interval=stream_interval, limit=200
    )
    try:
        typer.echo("Starting the GitLab sandbox with the demo project ...")
        sandbox = start_sandbox(folder, sandbox_port, bot_token, admin_token, people)
        os.environ.update(
            {
                "MERGE_ASSIST_DATA_DIR": str(folder / "product"),
                "MERGE_ASSIST_GITLAB_URL": f"http://127.0.0.1:{sandbox_port}",
                "MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN": bot_token,
                "MERGE_ASSIST_PUBLIC_URL": f"http://127.0.0.1:{product_port}",
                # Members of the sandbox's shop group sign in with their token as members
                # (check-outs, check-ins committed with their own token); nobody else.
                "MERGE_ASSIST_GITLAB_LOGIN_ALLOWED_GROUPS": GROUP,
                "MERGE_ASSIST_GITLAB_LOGIN_DEFAULT_ROLE": "member",
            }
        )
        password = secrets.token_urlsafe(12)
        create_admin_with_password("admin", password)
        onboarded = onboard_demo_project()
        stream.start()
        typer.echo(
            "\n".join(
                [
                    "",
                    f"  Dashboard:       http://127.0.0.1:{product_port}/",
                    "  Sign in as:      admin",
                    f"  Password:        {password}   (shown once; generated for this demo)",
                    f"  GitLab token:    alice {people['alice']}  (GitLab Token tab; the vault",
                    f"                   commits her check-ins with it; group {GROUP}: member)",
                    f"  GitLab sandbox:  http://127.0.0.1:{sandbox_port}/",
                    f"  Queue:           {onboarded}",
                    f"  Vault:           cam-programs ({CAM_PROJECT}, folder {CAM_FOLDER}/)",
                    f"  Demo folder:     {folder}",
                    "",
                    "  Ten merge requests wait for the bot (two break CI, two conflict); a new",
                    f"  one arrives every {stream_interval:g} seconds. Press Ctrl+C to stop.",
                    "",
                ]
            )
        )
        run_api("127.0.0.1", product_port, background=True)
    finally:
        stream.stop()
        if sandbox is not None:
            _stop_process(sandbox)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
