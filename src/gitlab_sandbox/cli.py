"""The ``gitlab-sandbox`` command."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from gitlab_sandbox.app import create_app
from gitlab_sandbox.chat import serve_chat
from gitlab_sandbox.runtime import build_sandbox
from gitlab_sandbox.sandbox import SandboxConfig
from gitlab_sandbox.scenario import ScenarioError, SeedResult, ci_rules, load_scenario
from gitlab_sandbox.store import hash_token

app = typer.Typer(
    help="A faithful GitLab emulator for demos, tests and benchmarks.", no_args_is_help=True
)


@app.callback()
def _root() -> None:
    """GitLab sandbox commands."""


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8929,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder for the repositories (default: a new temp folder).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of every random choice (CI, faults).")
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="JSON or YAML scenario to create at start-up.")
    ] = None,
    clock_speed: Annotated[
        float | None, typer.Option(help="Simulated seconds per real second.")
    ] = None,
    external_url: Annotated[
        str | None, typer.Option(help="URL clients use (default: http://HOST:PORT).")
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(envvar="GITLAB_SANDBOX_ADMIN_TOKEN", help="Admin token for /-/sandbox/."),
    ] = None,
) -> None:
    """Serve the sandbox until interrupted; prints its URL and the admin token once."""
    try:
        data = load_scenario(scenario) if scenario is not None else {}
        rules = ci_rules(data)
    except (ScenarioError, OSError) as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="gitlab-sandbox-"))
    url = (external_url or f"http://{host}:{port}").rstrip("/")
    token = admin_token or secrets.token_urlsafe(24)
    config = SandboxConfig(
        data_dir=data_dir,
        external_url=url,
        seed=seed if seed is not None else int(data.get("seed", 0)),
        clock_speed=clock_speed if clock_speed is not None else float(data.get("clock_speed", 1.0)),
        admin_token_sha256=hash_token(token),
        ci_rules=rules,
        mergeability_check_seconds=float(data.get("mergeability_check_seconds", 0.0)),
        rebase_seconds=float(data.get("rebase_seconds", 0.0)),
        asynchronous=bool(data.get("asynchronous", True)),
    )
    application = create_app(build_sandbox(config), scenario=data, on_seeded=_print_tokens)
    typer.echo(f"GitLab sandbox: {url}  (API {url}/api/v4, data in {data_dir})")
    if admin_token is None:
        typer.echo(f"Sandbox admin token (shown once): {token}")
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)


@app.command()
def chat(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8930,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve a stand-in OpenAI-compatible chat-completions endpoint (``/v1``) until interrupted:
    a fixed summary for every request, for the assistant's demos and end-to-end tests."""
    typer.echo(f"Chat-completions stand-in: http://{host}:{port}/v1")
    serve_chat(host, port)


def _print_tokens(result: SeedResult) -> None:
    for username, value in result.tokens.items():
        typer.echo(f"Token of {username} (shown once): {value}")


def main() -> None:
    """Entry point of the ``gitlab-sandbox`` command."""
    app()
