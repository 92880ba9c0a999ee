"""``merge-assist secrets``: store, read, list and rotate product secrets."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from merge_assist.kit.cli import EXIT_REFUSED, run_action
from merge_assist.kit.settings import get_settings
from merge_assist.secrets.file_provider import FileSecretProvider
from merge_assist.secrets.names import validate_name
from merge_assist.secrets.providers import SecretProvider, provider_from_settings

secrets_app = typer.Typer(no_args_is_help=True)

ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="env | file | aws | mounted (default: MERGE_ASSIST_SECRETS_PROVIDER).",
        show_default=False,
    ),
]
NameArgument = Annotated[str, typer.Argument(help="Secret name, e.g. gitlab-bot-token.")]

ROTATION_ELSEWHERE = {
    "env": "Secrets in the environment are rotated by whoever sets the environment.",
    "aws": "Rotation of secrets in AWS Secrets Manager is managed by AWS (rotation schedules).",
    "mounted": "Mounted secrets are rotated by updating the Kubernetes secret.",
}


def _provider(kind: str | None) -> SecretProvider:
    return run_action(lambda: provider_from_settings(get_settings(), kind))


def _read_value() -> str:
    # From stdin only: a value in argv would show in process listings and shell history.
    if sys.stdin.isatty():
        return str(typer.prompt("Value", hide_input=True, default="", show_default=False))
    value = sys.stdin.read()
    # `echo value | ...` and here-strings add one newline that is not part of the secret.
    if value.endswith("\r\n"):
        return value[:-2]
    return value.removesuffix("\n")


@secrets_app.command("set")
def set_secret(name: NameArgument, provider: ProviderOption = None) -> None:
    """Store a secret; the value is read from stdin (never give it as an argument)."""
    run_action(lambda: validate_name(name))
    store = _provider(provider)
    value = _read_value()
    if not value:
        typer.echo("Error: the value is empty; pipe the secret on stdin.", err=True)
        raise typer.Exit(EXIT_REFUSED)
    run_action(lambda: store.set(name, value))
    typer.echo(f"Stored {name} in the {store.kind} provider.", err=True)


@secrets_app.command("get")
def get_secret(name: NameArgument, provider: ProviderOption = None) -> None:
    """Print a secret's value."""
    store = _provider(provider)
    value = run_action(lambda: store.get(name))
    if value is None:
        typer.echo(f"There is no secret named {name} in the {store.kind} provider.", err=True)
        raise typer.Exit(EXIT_REFUSED)
    typer.echo(value)


@secrets_app.command("delete")
def delete_secret(name: NameArgument, provider: ProviderOption = None) -> None:
    """Delete a secret."""
    store = _provider(provider)
    run_action(lambda: store.delete(name))
    typer.echo(f"Deleted {name} from the {store.kind} provider.", err=True)


@secrets_app.command("list")
def list_secrets(provider: ProviderOption = None) -> None:
    """Print the names of the stored secrets, one per line (never the values)."""
    store = _provider(provider)
    for name in run_action(store.list_names):
        typer.echo(name)


@secrets_app.command("rotate")
def rotate(
    provider: ProviderOption = None,
    drop_old: Annotated[
        bool, typer.Option("--drop-old", help="Forget every key version but the new one.")
    ] = False,
) -> None:
    """Re-encrypt the secrets file with a new key version (file provider)."""
    store = _provider(provider)
    if not isinstance(store, FileSecretProvider):
        typer.echo(ROTATION_ELSEWHERE.get(store.kind, "This provider cannot rotate keys."))
        raise typer.Exit(EXIT_REFUSED)
    result = run_action(lambda: store.rotate(drop_old=drop_old))
    typer.echo(
        f"Re-encrypted {result.reencrypted} secret(s) with key version {result.key_version}."
    )
    if result.dropped_versions:
        dropped = ", ".join(str(version) for version in result.dropped_versions)
        typer.echo(f"Dropped key version(s) {dropped}.")
