"""``python -m merge_assist.server.cluster run|status``: what ``scripts/cluster`` drives.

``run`` starts the cluster on the demo's GitLab world (the demo project onboarded, its MRs
waiting for the bot), writes ``<state>/cluster.json`` (addresses and process ids; the
administrator's password goes to ``<state>/admin-password``, readable by its owner only), then
waits for SIGTERM/SIGINT or its time limit and stops everything. ``status`` reads that file
and says which processes still run.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from merge_assist.server.cluster.launch import ADMIN, Cluster, ClusterSpec
from merge_assist.server.demo_world import BOT, PROJECT, demo_scenario

app = typer.Typer(no_args_is_help=True, help="A cluster on this machine (scripts/cluster).")

STATE_FILE = "cluster.json"


@app.command("run")
def run(
    state: Annotated[Path, typer.Option(help="The cluster's state folder.")],
    database_url: Annotated[str, typer.Option(envvar="MERGE_ASSIST_TEST_POSTGRES_URL")],
    redis_url: Annotated[str, typer.Option(envvar="MERGE_ASSIST_TEST_REDIS_URL")],
    hours: Annotated[float, typer.Option(help="Stop by itself after this long.")] = 4.0,
) -> None:
    """Start the cluster, serve until a stop signal or ``hours``, then stop it."""
    stop = threading.Event()
    for kind in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(kind, lambda *_: stop.set())
    bot_token = f"glpat-{secrets.token_urlsafe(20)}"
    spec = ClusterSpec(
        state=state,
        database_url=database_url,
        redis_url=redis_url,
        scenario=demo_scenario(bot_token),
        bot_token=bot_token,
    )
    cluster = Cluster(spec)
    with cluster:
        onboarded = cluster.run_cli(
            ["projects", "add", PROJECT, "--strategy", "batch", "--set", "batch_size=4"]
        )
        _write_state(cluster, hours)
        typer.echo(onboarded.strip())
        typer.echo(f"Cluster ready: {cluster.url} (stops by itself after {hours:g} h)")
        stop.wait(hours * 3600)
        typer.echo("Stopping the cluster ...")
    (state / STATE_FILE).unlink(missing_ok=True)


def _write_state(cluster: Cluster, hours: float) -> None:
    password = cluster.spec.state / "admin-password"
    password.touch(mode=0o600)
    password.write_text(cluster.admin_password + "\n", encoding="utf-8")
    facts = {
        "supervisor_pid": os.getpid(),
        "url": cluster.url,
        "sandbox_url": cluster.sandbox_url,
        "admin": ADMIN,
        "admin_password_file": str(password),
        "bot": BOT,
        "project": PROJECT,
        "hours": hours,
        "processes": {name: p.pid for name, p in cluster.processes.items()},
        "ports": cluster.ports,
    }
    (cluster.spec.state / STATE_FILE).write_text(json.dumps(facts, indent=2), encoding="utf-8")


def read_state(state: Path) -> dict[str, Any] | None:
    """What ``run`` wrote, or None when no cluster runs from this folder."""
    path = state / STATE_FILE
    if not path.exists():
        return None
    facts: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return facts


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@app.command("status")
def status(state: Annotated[Path, typer.Option(help="The cluster's state folder.")]) -> None:
    """Each process of the cluster: running or gone (exit 1 when the cluster is not running)."""
    facts = read_state(state)
    if facts is None or not _running(int(facts["supervisor_pid"])):
        typer.echo(f"No cluster runs from {state}.")
        raise typer.Exit(1)
    typer.echo(f"Dashboard and API: {facts['url']} (nginx)")
    typer.echo(f"Sign in as:        {facts['admin']}, password in {facts['admin_password_file']}")
    typer.echo(f"GitLab sandbox:    {facts['sandbox_url']} (project {facts['project']})")
    for name, pid in facts["processes"].items():
        port = facts["ports"].get(name)
        where = f" on 127.0.0.1:{port}" if port else ""
        typer.echo(f"  {name:<10} pid {pid:<8} {'running' if _running(pid) else 'gone'}{where}")
