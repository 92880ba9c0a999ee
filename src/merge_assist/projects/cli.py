"""``merge-assist projects``: onboard a GitLab project and list the onboarded ones."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from merge_assist.kit.cli import EXIT_CANNOT_RUN, EXIT_REFUSED, run_unit_of_work
from merge_assist.kit.db import create_sessionmaker
from merge_assist.kit.settings import get_settings
from merge_assist.projects import service
from merge_assist.projects.gitlab_access import gitlab_client_factory
from merge_assist.projects.onboarding_check import (
    DeliveryWitness,
    OnboardingReport,
    ReceivedSince,
    check_project,
)
from merge_assist.projects.schemas import OnboardRequest
from merge_assist.projects.service import Actor

projects_app = typer.Typer(no_args_is_help=True, help="Onboard and list GitLab projects.")

CLI_ACTOR = Actor(id=None, name="cli")


@projects_app.command("add")
def add_project(
    project: Annotated[str, typer.Argument(help="GitLab project id or full path (group/app).")],
    target_branch: Annotated[
        list[str] | None,
        typer.Option("--target-branch", "-b", help="A target branch (repeat for several)."),
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="single, batch or train.")] = None,
    parallel_tests: Annotated[
        int | None,
        typer.Option(help="Pipelines a failed batch may run side by side (1 to 20; default 4)."),
    ] = None,
    no_webhook: Annotated[
        bool, typer.Option("--no-webhook", help="Do not register a GitLab webhook (poll only).")
    ] = False,
    settings_given: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Any configuration key (repeatable), e.g. --set batch_size=5; the value is "
            "read as JSON (numbers, true/false, lists) or else as text.",
        ),
    ] = None,
) -> None:
    """Onboard a GitLab project: read it as the bot and register the webhook."""
    try:
        request = OnboardRequest(gitlab_project=project)
    except ValueError as exc:
        message = f"Error: {project!r} is neither a project id nor a path like group/app."
        typer.echo(message, err=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from exc
    changes = _parse_settings(settings_given or [])
    if target_branch:
        changes["target_branches"] = target_branch
    if strategy:
        changes["strategy"] = strategy
    if parallel_tests is not None:
        changes["parallel_tests"] = parallel_tests
    if no_webhook:
        changes["webhook_enabled"] = False
    settings = get_settings()

    async def work(session: AsyncSession) -> str:
        onboarded = await service.onboard(
            session,
            settings,
            gitlab_client_factory(settings),
            CLI_ACTOR,
            request.gitlab_project,
            changes,
        )
        hook = f"webhook {onboarded.webhook_id}" if onboarded.webhook_id else "no webhook"
        return f"Onboarded {onboarded.path_with_namespace} as project {onboarded.id} ({hook})."

    typer.echo(run_unit_of_work(work))


def _parse_settings(given: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs as configuration changes (the service validates keys and values)."""
    changes: dict[str, object] = {}
    for item in given:
        key, sign, raw = item.partition("=")
        if not sign or not key.strip():
            typer.echo(f"Error: --set {item!r} is not KEY=VALUE.", err=True)
            raise typer.Exit(EXIT_CANNOT_RUN)
        try:
            changes[key.strip()] = json.loads(raw)
        except ValueError:
            changes[key.strip()] = raw
    return changes


@projects_app.command("list")
def list_projects(
    all_projects: Annotated[
        bool, typer.Option("--all", help="Include deactivated projects.")
    ] = False,
) -> None:
    """The onboarded projects: id, GitLab id, path, state."""

    async def work(session: AsyncSession) -> list[str]:
        projects = await service.all_projects(session, include_inactive=all_projects)
        return [
            f"{p.id}\t{p.gitlab_project_id}\t{p.path_with_namespace}\t"
            f"{'active' if p.is_active else 'deactivated'}"
            for p in projects
        ]

    lines = run_unit_of_work(work)
    typer.echo("\n".join(lines) if lines else "No projects are onboarded yet.")


def register_check_command(app: typer.Typer, received_since: ReceivedSince) -> None:
    """Add ``projects check``; ``received_since`` reads the listener's inbox (the composition
    root passes ``ingest.service.received_since``)."""

    @app.command("check")
    def check(
        project: Annotated[str, typer.Argument(help="GitLab project id or full path (group/app).")],
    ) -> None:
        """Check the connection to GitLab for a project: bot token, scopes and expiry, the
        bot's role, target branches, "pipelines must succeed", our webhook and a test delivery.
        Exits 1 when a check fails."""
        try:
            request = OnboardRequest(gitlab_project=project)
        except ValueError as exc:
            message = f"Error: {project!r} is neither a project id nor a path like group/app."
            typer.echo(message, err=True)
            raise typer.Exit(EXIT_CANNOT_RUN) from exc
        settings = get_settings()

        async def work(session: AsyncSession) -> OnboardingReport:
            engine = session.bind
            assert isinstance(engine, AsyncEngine)  # the unit of work's sessions are bound to it
            witness = DeliveryWitness(create_sessionmaker(engine, settings), received_since)
            return await check_project(
                session, settings, gitlab_client_factory(settings), request.gitlab_project, witness
            )

        report = run_unit_of_work(work)
        typer.echo(format_report(report))
        if not report.ok:
            raise typer.Exit(EXIT_REFUSED)


def format_report(report: OnboardingReport) -> str:
    """The report as lines a person reads: a status word, the check, its sentence, the fix."""
    bot = f" as {report.bot_username}" if report.bot_username else ""
    lines = [f"Checking {report.project}{bot}:"]
    width = max((len(check.name) for check in report.checks), default=0)
    for check in report.checks:
        lines.append(f"  {check.status:<8} {check.name:<{width}}  {check.sentence}")
        if check.fix and check.status != "ok":
            lines.append(f"  {'':<8} {'':<{width}}  fix: {check.fix}")
    failing = sum(check.status == "failing" for check in report.checks)
    warnings = sum(check.status == "warning" for check in report.checks)
    verdict = "Ready." if failing == 0 else f"{failing} failing"
    lines.append(f"{verdict} ({failing} failing, {warnings} warnings)")
    return "\n".join(lines)
