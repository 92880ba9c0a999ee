"""The ``merge-assist`` command: every process and administration task."""

from __future__ import annotations

import typer

from merge_assist.assistant.cli import register_explain_command
from merge_assist.audit.cli import audit_app
from merge_assist.audit.sink import AuditLogSink
from merge_assist.auth.cli import record_audit_into, users_app
from merge_assist.ingest.service import received_since
from merge_assist.projects.cli import projects_app, register_check_command
from merge_assist.secrets.cli import secrets_app
from merge_assist.server.commands import register_serve_commands
from merge_assist.server.db_cli import db_app
from merge_assist.server.roles import register_role_commands
from merge_assist.vault.cli import vault_app

app = typer.Typer(
    name="merge-assist",
    help="Merge Assist: a GitLab merge queue that keeps the target branch green, "
    "and a vault for files that cannot be merged.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db", help="Apply or inspect database migrations.")
app.add_typer(
    secrets_app,
    name="secrets",
    help="Store and read product secrets (GitLab bot token, webhook secrets, ...).",
)
app.add_typer(audit_app, name="audit", help="Verify, list and export the audit log.")
app.add_typer(users_app, name="users", help="Create and manage users and their roles.")
record_audit_into(AuditLogSink(unattributed_actor="cli"))
register_check_command(projects_app, received_since)
app.add_typer(projects_app, name="projects", help="Onboard, list and check GitLab projects.")
app.add_typer(vault_app, name="vault", help="Create and list file vaults.")
register_serve_commands(app)
register_role_commands(app)
register_explain_command(app)


def main() -> None:
    """Entry point of the ``merge-assist`` console script."""
    app()
