"""The onboarding check: what is wrong between GitLab and us, before a first MR waits forever.

Asks GitLab, as the bot: the token (``GET /user``, ``GET /personal_access_tokens/self``), the
project and its merge settings, the bot's role, the target branches (``can_push`` when landing
by push), our webhook, then a test delivery (``POST .../hooks/:id/test/push_events``) and
whether our listener stored it within a few seconds. Verdicts: ``check_rules``. Read-only on
our side; GitLab sends one test push event.

Whether a delivery arrived is in the event inbox, a feature above this one: the caller passes
``ReceivedSince`` (``ingest.service.received_since``), run on fresh sessions so a delivery stored
by another request or process is seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.gitlab import GitLabAuthError, GitLabClient, GitLabError, GitLabNotFound
from merge_assist.gitlab.models import Branch, Hook, PersonalAccessToken
from merge_assist.kit.clock import utcnow
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import ServiceKey
from merge_assist.projects import check_rules as rules
from merge_assist.projects import gitlab_access, repository
from merge_assist.projects.check_rules import CheckResult
from merge_assist.projects.config import ProjectConfig, default_config
from merge_assist.projects.gitlab_access import GitLabClientFactory
from merge_assist.projects.models import Project
from merge_assist.projects.service import get_config

ReceivedSince = Callable[[AsyncSession, int, datetime], Awaitable[bool]]
RECEIVED_SINCE: ServiceKey[ReceivedSince] = ServiceKey("webhook deliveries received since")
"""The inbox's query for the check (``ingest.service.received_since``; ``create_resources``)."""
DELIVERY_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class OnboardingReport:
    """The check's lines, in order; ``ok`` when none is failing."""

    project: str
    bot_username: str | None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != "failing" for check in self.checks)


@dataclass(frozen=True)
class DeliveryWitness:
    """How the check sees the listener's inbox: fresh sessions and the query."""

    sessions: async_sessionmaker[AsyncSession]
    received_since: ReceivedSince
    wait: timedelta = DELIVERY_WAIT

    async def arrived(self, project_id: int, since: datetime) -> bool:
        deadline = asyncio.get_running_loop().time() + self.wait.total_seconds()
        while True:
            async with self.sessions() as session:
                if await self.received_since(session, project_id, since):
                    return True
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.25)


async def check_project(
    session: AsyncSession,
    settings: Settings,
    factory: GitLabClientFactory,
    gitlab_project: int | str,
    witness: DeliveryWitness,
) -> OnboardingReport:
    """Check the GitLab project ``gitlab_project`` (id or path) as the bot, and ours for it."""
    client = await asyncio.to_thread(factory)
    async with client:
        try:
            bot = await client.current_user()
        except GitLabAuthError:
            return OnboardingReport(
                str(gitlab_project), None, [rules.token_refused(settings.gitlab_url or "")]
            )
        checks = [rules.ok("bot token", f"The bot token belongs to {bot.username}.")]
        checks.append(rules.token_scopes(await _token(client), utcnow().date()))
        try:
            found = await client.get_project(gitlab_project)
        except (GitLabNotFound, GitLabError) as exc:
            checks.append(_project_missing(gitlab_project, bot.username, exc))
            return OnboardingReport(str(gitlab_project), bot.username, checks)
        ours = await repository.project_by_gitlab_id(session, found.id)
        config = await _config(session, ours, found.default_branch)
        path = found.path_with_namespace
        member = await client.find_project_member(found.id, bot.username)
        checks.append(rules.membership(member, bot.username, path, config.landing))
        checks += rules.merge_settings(found)
        for name in config.target_branches:
            branch = await _branch(client, found.id, name)
            checks.append(rules.target_branch(branch, name, config.landing))
        checks += await _webhook_checks(client, settings, ours, config, witness)
        return OnboardingReport(path, bot.username, checks)


def _project_missing(ref: int | str, bot: str, exc: GitLabError) -> CheckResult:
    if isinstance(exc, GitLabNotFound):
        return CheckResult(
            "project",
            "failing",
            f"GitLab does not show the project {ref!r} to the bot user {bot}.",
            f"Check the id or path, and invite {bot} to the project as Maintainer.",
        )
    return CheckResult("project", "failing", f"GitLab refused to show {ref!r}: {exc.message}")


async def _token(client: GitLabClient) -> PersonalAccessToken | None:
    try:
        return await client.token_self()
    except GitLabError:  # before GitLab 16.0, or not a personal/project/group token
        return None


async def _branch(client: GitLabClient, project_id: int, name: str) -> Branch | None:
    try:
        return await client.get_branch(project_id, name)
    except GitLabNotFound:
        return None


async def _config(
    session: AsyncSession, ours: Project | None, default: str | None
) -> ProjectConfig:
    if ours is None:
        return default_config(default or "main")
    return await get_config(session, ours.id)


async def _webhook_checks(
    client: GitLabClient,
    settings: Settings,
    ours: Project | None,
    config: ProjectConfig,
    witness: DeliveryWitness,
) -> list[CheckResult]:
    """Onboarded with our webhook: registered right, and a test delivery reaches us."""
    if ours is None or not ours.is_active:
        return [
            CheckResult(
                "onboarded",
                "warning",
                "The project is not onboarded in Merge Assist yet: no webhook to check.",
                "merge-assist projects add PROJECT (or Administration > Onboard), then check "
                "again.",
            )
        ]
    if not config.webhook_enabled:
        return [
            CheckResult(
                "webhook",
                "warning",
                "The webhook is off for this project: the queue sees changes only when it polls "
                f"(every {config.polling_interval_seconds} s).",
                "Turn on 'Webhook enabled' in the project's settings.",
            )
        ]
    url = gitlab_access.webhook_url(settings)
    hooks = await _hooks(client, ours.gitlab_project_id)
    verdict, hook = rules.webhook(hooks, ours.webhook_id, url)
    if hook is None or (verdict.status == "failing" and hook.url != url):
        return [verdict]
    return [verdict, await _test_delivery(client, ours, hook, url, witness)]


async def _hooks(client: GitLabClient, project_id: int) -> list[Hook] | None:
    try:
        return await client.list_project_hooks(project_id)
    except GitLabError:  # 403 below Maintainer
        return None


async def _test_delivery(
    client: GitLabClient, ours: Project, hook: Hook, url: str, witness: DeliveryWitness
) -> CheckResult:
    since = utcnow() - timedelta(seconds=1)  # clocks of the same database: a little slack
    try:
        await client.test_project_hook(ours.gitlab_project_id, hook.id, "push_events")
    except GitLabError as exc:
        return rules.delivery(url, exc.message, False, witness.wait)
    arrived = await witness.arrived(ours.id, since)
    return rules.delivery(url, None, arrived, witness.wait)
