"""``merge-assist projects``: onboard a GitLab project and list the onboarded ones."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from merge_assist.kit.cli import EXIT_CANNOT_RUN, EXIT_REFUSED, run_unit_of_work
from merge_assist.kit.db import create_engine, create_sessionmaker, unit_of_work
from merge_assist.kit.errors import MergeAssistError
from merge_assist.kit.progress import ProgressLine
from merge_assist.kit.settings import Settings, get_settings
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
    project: Annotated[
        list[str],
        typer.Argument(help="GitLab project ids or full paths (group/app); several at once."),
    ],
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
    """Onboard GitLab projects: read each as the bot and register the webhook (with several,
    a progress line at a terminal; each is onboarded on its own, a refusal does not stop the
    others)."""
    requests = [_request(ref) for ref in project]
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
    if len(requests) == 1:
        typer.echo(run_unit_of_work(lambda session: _onboard(session, requests[0], changes)))
        return
    _onboard_many(settings, requests, changes)


async def _onboard(
    session: AsyncSession, request: OnboardRequest, changes: dict[str, object]
) -> str:
    settings = get_settings()
    onboarded = await service.onboard(
        session,
        settings,
        gitlab_client_factory(settings),
        CLI_ACTOR,
        request.gitlab_project,
        dict(changes),
    )
    hook = f"webhook {onboarded.webhook_id}" if onboarded.webhook_id else "no webhook"
    return f"Onboarded {onboarded.path_with_namespace} as project {onboarded.id} ({hook})."


def _request(ref: str) -> OnboardRequest:
    try:
        return OnboardRequest(gitlab_project=ref)
    except ValueError as exc:
        message = f"Error: {ref!r} is neither a project id nor a path like group/app."
        typer.echo(message, err=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from exc


def _onboard_many(
    settings: Settings, requests: list[OnboardRequest], changes: dict[str, object]
) -> None:
    """One after another, each in its own unit of work, with a progress line at a terminal;
    a refusal is printed and the others go on; exit 1 when one was refused."""

    async def each() -> list[str]:
        progress = ProgressLine("Onboarding")
        refused: list[str] = []
        engine = create_engine(settings.effective_database_url)
        try:
            for index, request in enumerate(requests, start=1):
                ref = str(request.gitlab_project)
                progress(index - 1, len(requests), ref)
                try:
                    async with unit_of_work(create_sessionmaker(engine, settings)) as session:
                        line = await _onboard(session, request, changes)
                except MergeAssistError as refusal:
                    refused.append(ref)
                    message = f"Error: {ref}: {refusal.message}"
                    progress.above(partial(_say, message, error=True))
                    continue
                progress.above(partial(_say, line, error=False))
            progress(len(requests), len(requests))
        finally:
            progress.finish()
            await engine.dispose()
        return refused

    refused = asyncio.run(each())
    summary = f"Onboarded {len(requests) - len(refused)} of {len(requests)} projects."
    if refused:
        typer.echo(f"{summary} Refused: {', '.join(refused)}.", err=True)
        raise typer.Exit(EXIT_REFUSED)
    typer.echo(summary)


def _say(text: str, *, error: bool) -> None:
    typer.echo(text, err=error)


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
