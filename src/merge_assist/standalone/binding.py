"""Which GitLab project a standalone instance's vault lives in, and how its user reaches it.

A standalone instance is bound to one GitLab project folder by settings (environment or
``.env``): ``MERGE_ASSIST_GITLAB_URL``, ``MERGE_ASSIST_STANDALONE_PROJECT`` (``group/project``),
``MERGE_ASSIST_STANDALONE_FOLDER`` and ``MERGE_ASSIST_STANDALONE_BRANCH``. Its ``default``
vault is that folder. Every GitLab call is made with the signed-in user's own token (GitLab-token
login), so GitLab decides what each user may do; there is no bot token on a user's machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from merge_assist.gitlab import GitLabClient
from merge_assist.gitlab.paths import clean_folder
from merge_assist.kit.errors import Conflict, Forbidden
from merge_assist.kit.settings import Settings


class NotBound(Conflict):
    """409: standalone mode without a GitLab project to share locks through."""

    code = "standalone_not_bound"


@dataclass(frozen=True)
class StandaloneBinding:
    """The vault's GitLab project path, folder and branch."""

    gitlab_url: str
    project: str
    folder: str
    branch: str

    def repository_path(self, path: str) -> str:
        """The repository path of the vault file ``path`` (what GitLab locks)."""
        return f"{self.folder}/{path}" if self.folder else path


def binding_problem(settings: Settings) -> str | None:
    """Why ``settings`` cannot run a standalone vault (None when they can)."""
    missing = [
        name
        for name, value in (
            ("MERGE_ASSIST_GITLAB_URL", settings.gitlab_url),
            ("MERGE_ASSIST_STANDALONE_PROJECT", settings.standalone_project),
        )
        if not (value or "").strip()
    ]
    if not missing:
        return None
    return (
        f"Standalone mode shares locks and messages through a GitLab project: set "
        f"{' and '.join(missing)} (e.g. https://gitlab.example.com and group/project; "
        "see docs/standalone.md)."
    )


def binding_of(settings: Settings) -> StandaloneBinding:
    """The binding of a standalone instance; ``NotBound`` (409) when it is not configured."""
    problem = binding_problem(settings)
    if problem is not None:
        raise NotBound(problem)
    return StandaloneBinding(
        gitlab_url=(settings.gitlab_url or "").strip(),
        project=(settings.standalone_project or "").strip().strip("/"),
        folder=clean_folder(settings.standalone_folder),
        branch=settings.standalone_branch.strip() or "main",
    )


def user_client(settings: Settings, token: str | None) -> GitLabClient:
    """A GitLab client acting as the signed-in user; 403 when they have no GitLab token here."""
    if not token:
        raise Forbidden(
            "In standalone mode GitLab decides who holds a file: sign in with your GitLab "
            "personal access token (scope api) to use the vault and messages."
        )
    return GitLabClient.from_settings(settings, token)
