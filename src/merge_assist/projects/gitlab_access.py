"""How the projects feature reaches GitLab: a client as the bot user, and webhook registration.

Features get a client from ``res.service(GITLAB_CLIENT_FACTORY)()``; the app provides the
factory at start, so tests (and the demo) can point it anywhere. The default reads
``MERGE_ASSIST_GITLAB_URL`` and the bot token from the secrets provider (secret
``gitlab-bot-token``) each time, so a rotated token is used at once.
"""

from __future__ import annotations

from collections.abc import Callable

from merge_assist.gitlab import (
    GitLabAuthError,
    GitLabClient,
    GitLabError,
    GitLabForbidden,
    GitLabNotFound,
    GitLabUnavailable,
)
from merge_assist.gitlab.models import Hook
from merge_assist.gitlab.models import Project as GitLabProject
from merge_assist.kit.errors import MergeAssistError, NotFound, ServiceUnavailable
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import ServiceKey
from merge_assist.secrets.providers import provider_from_settings

BOT_TOKEN_SECRET = "gitlab-bot-token"  # noqa: S105 - the secret's name, not its value
WEBHOOK_PATH = "/webhook/gitlab"
WEBHOOK_EVENTS = ("merge_requests_events", "pipeline_events", "note_events")

GitLabClientFactory = Callable[[], GitLabClient]
GITLAB_CLIENT_FACTORY: ServiceKey[GitLabClientFactory] = ServiceKey("GitLab client factory")
"""The app's factory of bot clients (``gitlab_client_factory``; ``create_resources``)."""


class GitLabBadGateway(MergeAssistError):
    """GitLab could not be reached or answered with an error we cannot act on."""

    status_code = 502
    code = "gitlab_unreachable"


def gitlab_client_factory(settings: Settings) -> GitLabClientFactory:
    """A factory of clients authenticated as the bot (URL from settings, token from secrets)."""

    def build() -> GitLabClient:
        if not settings.gitlab_url:
            raise ServiceUnavailable(
                "GitLab is not configured: set MERGE_ASSIST_GITLAB_URL to its address."
            )
        token = provider_from_settings(settings).get(BOT_TOKEN_SECRET)
        if not token:
            raise ServiceUnavailable(
                f"The GitLab bot token is missing: store it as the secret {BOT_TOKEN_SECRET!r} "
                "(merge-assist secrets set gitlab-bot-token)."
            )
        return GitLabClient.from_settings(settings, token)

    return build


def webhook_url(settings: Settings) -> str:
    """Where GitLab sends this server's webhooks."""
    return settings.effective_public_url + WEBHOOK_PATH


def _translate(exc: GitLabError, what: str) -> MergeAssistError:
    """A GitLab failure as a sentence for our caller (never our own 401)."""
    if isinstance(exc, GitLabNotFound | GitLabForbidden):
        return NotFound(
            f"GitLab does not know {what}, or the bot user cannot see it; check the id or path "
            "and add the bot to the project (Maintainer, to manage webhooks)."
        )
    if isinstance(exc, GitLabAuthError):
        return GitLabBadGateway(
            "GitLab refused the bot token (expired or revoked?); store a fresh one as the "
            f"secret {BOT_TOKEN_SECRET!r}."
        )
    if isinstance(exc, GitLabUnavailable):
        return GitLabBadGateway(f"GitLab is unreachable right now: {exc.message}")
    return GitLabBadGateway(f"GitLab refused the request about {what}: {exc.message}")


async def fetch_project(client: GitLabClient, ref: int | str) -> GitLabProject:
    """The GitLab project ``ref`` (id or ``group/path``); 404/502 with a sentence otherwise."""
    try:
        return await client.get_project(ref)
    except GitLabError as exc:
        raise _translate(exc, f"the project {ref!r}") from exc


async def register_hook(
    client: GitLabClient, settings: Settings, gitlab_project_id: int, secret: str
) -> Hook:
    """Add our webhook (MR, pipeline and note events) with ``secret`` as its token."""
    try:
        return await client.create_project_hook(
            gitlab_project_id, webhook_url(settings), token=secret, events=WEBHOOK_EVENTS
        )
    except GitLabForbidden as exc:
        raise GitLabBadGateway(
            f"The bot user may not manage the webhooks of the project {gitlab_project_id}: "
            "make it a Maintainer of the project, or onboard with webhook_enabled false."
        ) from exc
    except GitLabError as exc:
        raise _translate(exc, f"the project {gitlab_project_id}") from exc


async def remove_hook(client: GitLabClient, gitlab_project_id: int, hook_id: int) -> None:
    """Delete our webhook; one already gone (deleted by hand in GitLab) is fine."""
    try:
        await client.delete_project_hook(gitlab_project_id, hook_id)
    except GitLabNotFound:
        return
    except GitLabError as exc:
        raise _translate(exc, f"the project {gitlab_project_id}") from exc
