"""The GitLab client of the product: one typed async client over httpx.

Operations are grouped by resource in ``*_api.py`` mixins that share :class:`GitLabCore`
(timeouts, the retry rule of :mod:`merge_assist.gitlab.retry`, typed errors, pagination and
per-operation call counts in ``client.calls`` and Prometheus).

    async with GitLabClient("https://gitlab.example.com", token) as gitlab:
        mr = await gitlab.get_merge_request("group/app", 12)
        await gitlab.merge_merge_request("group/app", 12, sha=mr.sha)
"""

from __future__ import annotations

import httpx

from merge_assist.gitlab.core import GitLabCore
from merge_assist.gitlab.lfs_api import LfsLocksApi
from merge_assist.gitlab.merge_requests_api import MergeRequestsApi
from merge_assist.gitlab.pipelines_api import PipelinesApi
from merge_assist.gitlab.projects_api import ProjectsApi, UsersApi
from merge_assist.gitlab.repository_api import RepositoryApi
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.settings import Settings


class GitLabClient(
    UsersApi,
    ProjectsApi,
    MergeRequestsApi,
    PipelinesApi,
    RepositoryApi,
    LfsLocksApi,
    GitLabCore,
):
    """Async GitLab REST API v4 + Git LFS lock client authenticated by one token."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        token: str,
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> GitLabClient:
        """A client configured by ``MERGE_ASSIST_GITLAB_*`` settings."""
        url = base_url or settings.gitlab_url
        if not url:
            raise ValueError("MERGE_ASSIST_GITLAB_URL is not set.")
        timeout = httpx.Timeout(
            connect=settings.gitlab_connect_timeout_seconds,
            read=settings.gitlab_read_timeout_seconds,
            write=settings.gitlab_read_timeout_seconds,
            pool=settings.gitlab_connect_timeout_seconds,
        )
        return cls(
            url,
            token,
            timeout=timeout,
            retry=RetryPolicy(
                max_retries=settings.gitlab_max_retries,
                backoff=settings.gitlab_backoff_seconds,
                max_retry_after=settings.gitlab_max_retry_after_seconds,
            ),
            transport=transport,
        )
