"""``merge-assist audit``: verify, list and export the audit log from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service
from merge_assist.audit.formats import ExportFormat, render
from merge_assist.audit.models import AuditEntry
from merge_assist.audit.repository import AuditQuery
from merge_assist.kit.cli import EXIT_REFUSED, run_unit_of_work

audit_app = typer.Typer(no_args_is_help=True, help="Verify, list and export the audit log.")


@audit_app.command("verify")
def verify() -> None:
    """Check the hash chain; exit 1 and name the first broken entry if it does not hold."""
    result = run_unit_of_work(service.verify)
    if result.ok:
        typer.echo(f"audit log intact: {result.checked} entries")
        typer.echo(describe_chain(result))
        if result.head_hash:
            typer.echo(f"head hash: {result.head_hash}")
        return
    typer.echo(f"audit log broken at entry #{result.first_broken_id}: {result.reason}", err=True)
    typer.echo(f"checked before the break: {describe_chain(result)}", err=True)
    raise typer.Exit(EXIT_REFUSED)


@audit_app.command("seal")
def seal() -> None:
    """Append one keyed entry, which seals every older (unkeyed) entry with the audit key."""
    entry = run_unit_of_work(service.seal)
    typer.echo(f"sealed the chain with entry #{entry.id}")


def describe_chain(result: service.VerifyResult) -> str:
    """Which kind of chain was checked: keyed (from which entry), unkeyed, or empty."""
    if result.keyed:
        sealed = (
            f"; the {result.unkeyed} older unkeyed entries before it are sealed by it"
            if result.unkeyed
            else ""
        )
        return (
            f"keyed chain (HMAC-SHA256 under the audit key) from entry #{result.first_keyed_id}"
            f"{sealed}"
        )
    if result.unkeyed:
        return (
            f"unkeyed chain (SHA-256 only): its {result.unkeyed} entries were written before the "
            "chain was keyed; anyone who can write to the database could have rewritten them. "
            "The next entry recorded seals them."
        )
    return "empty chain"


def _describe(entry: AuditEntry) -> str:
    target = f"{entry.target_type or '-'}:{entry.target_id or '-'}"
    outcome = "ok" if entry.success else "FAILED"
    when = entry.occurred_at.isoformat(timespec="seconds")
    return f"#{entry.id}  {when}  {entry.actor_name}  {entry.action}  {target}  {outcome}"


@audit_app.command("list")
def list_entries(
    action: str | None = typer.Option(None, help="Exact action, or a prefix ending in *."),
    actor: str | None = typer.Option(None, help="Actor name."),
    limit: int = typer.Option(50, min=1, max=500, help="How many entries, newest first."),
) -> None:
    """Show the newest entries, optionally filtered."""

    async def work(session: AsyncSession) -> service.AuditPage:
        return await service.search(session, AuditQuery(action=action, actor=actor), limit=limit)

    page = run_unit_of_work(work)
    for entry in page.items:
        typer.echo(_describe(entry))
    typer.echo(f"{len(page.items)} of {page.total} entries")


@audit_app.command("export")
def export(
    fmt: ExportFormat = typer.Option(ExportFormat.jsonl, "--format", help="jsonl or csv."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default stdout)."),
) -> None:
    """Write every entry, in chain order, as JSON Lines or CSV."""

    async def write(session: AsyncSession, stream: TextIO) -> int:
        written = 0
        async for chunk in render(service.export(session), fmt):
            stream.write(chunk)
            written += 1
        return written

    if output is None:
        run_unit_of_work(lambda session: write(session, sys.stdout))
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        lines = run_unit_of_work(lambda session: write(session, handle))
    typer.echo(f"wrote {lines} lines to {output}", err=True)
