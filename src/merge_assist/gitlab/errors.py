"""Typed GitLab refusals, each carrying GitLab's status and its reason as a sentence.

``status`` is what GitLab answered; ``status_code`` is what *our* API answers if the error is
not handled by a service: a refusal from GitLab is a bad gateway (502) for our caller, and an
unreachable GitLab is a 503 — never our own 401/404, which would mislead the dashboard.
"""

from __future__ import annotations

from typing import Any

from merge_assist.gitlab.models import LfsLock
from merge_assist.kit.errors import MergeAssistError

_MAX_MESSAGE = 500


class GitLabError(MergeAssistError):
    """GitLab refused or failed a call; ``message`` is GitLab's reason as a sentence."""

    status_code = 502
    code = "gitlab_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        operation: str = "",
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.operation = operation
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, operation={self.operation!r})"


class GitLabAuthError(GitLabError):
    """401: the token is missing, expired or revoked."""

    code = "gitlab_auth"


class GitLabForbidden(GitLabError):
    """403: the token's user may not do this (role, protected branch, scope)."""

    code = "gitlab_forbidden"


class GitLabNotFound(GitLabError):
    """404: the project, merge request, branch or file does not exist (or is hidden)."""

    code = "gitlab_not_found"


class GitLabConflict(GitLabError):
    """409: the resource changed or exists already (e.g. the merge ``sha`` no longer matches)."""

    code = "gitlab_conflict"


class GitLabLockConflict(GitLabConflict):
    """409 from the Git LFS lock API: the path is locked already; ``lock`` is the holder's."""

    def __init__(self, message: str, *, lock: LfsLock | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.lock = lock


class GitLabNotMergeable(GitLabError):
    """405 (406 before GitLab 16): GitLab will not merge this merge request now (draft,
    conflicts, needs a rebase, approvals, discussions, pipeline)."""

    code = "gitlab_not_mergeable"


class GitLabMergeFailed(GitLabNotMergeable):
    """422 from ``PUT .../merge`` (GitLab 16+): the MR was mergeable but the merge itself
    failed, e.g. the target branch moved under it. A race to look at again, not a verdict."""

    code = "gitlab_merge_failed"


class GitLabValidationError(GitLabError):
    """400/422: GitLab rejected the parameters (e.g. branch exists, invalid label)."""

    code = "gitlab_invalid"


class GitLabUnavailable(GitLabError):
    """GitLab did not answer usefully: retries exhausted on 5xx, time-outs or connection errors."""

    status_code = 503
    code = "gitlab_unavailable"


class GitLabRateLimited(GitLabUnavailable):
    """429 with a ``Retry-After`` longer than we are willing to wait; try after ``retry_after``."""

    code = "gitlab_rate_limited"

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class GitLabRebaseTimeout(GitLabError):
    """A rebase was still in progress when ``wait_for_rebase`` gave up."""

    status_code = 504
    code = "gitlab_rebase_timeout"


class GitLabTooManyPages(GitLabError):
    """A listing went past the safety bound on pages; narrow the query or raise the bound."""

    code = "gitlab_too_many_pages"


_BY_STATUS: dict[int, type[GitLabError]] = {
    400: GitLabValidationError,
    401: GitLabAuthError,
    403: GitLabForbidden,
    404: GitLabNotFound,
    405: GitLabNotMergeable,
    406: GitLabNotMergeable,
    409: GitLabConflict,
    422: GitLabValidationError,
}


def error_class_for(status: int) -> type[GitLabError]:
    """The error class for an HTTP status GitLab answered with (5xx → unavailable)."""
    if status >= 500:
        return GitLabUnavailable
    return _BY_STATUS.get(status, GitLabError)


def _flatten(value: Any) -> str:
    """GitLab reasons come as a string, a list of strings, or ``{field: [problems]}``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "; ".join(part for part in (_flatten(item) for item in value) if part)
    if isinstance(value, dict):
        parts = []
        for key, problems in value.items():
            text = _flatten(problems)
            if not text:
                continue
            # Rails puts whole-record errors under "base"; field errors read "title is too long".
            parts.append(text if key == "base" else f"{key} {text}")
        return "; ".join(parts)
    return str(value).strip()


def as_sentence(text: str) -> str:
    """Capitalised, ending with a full stop, bounded in length."""
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1].rstrip() + "…"
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def reason_from_body(body: Any) -> str:
    """GitLab's reason from an error body (``message``, ``error_description``, ``error``)."""
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            text = _flatten(body.get(key))
            if text:
                return text
        return ""
    return _flatten(body)


def error_from_response(
    status: int, body: Any, *, operation: str, fallback_text: str = ""
) -> GitLabError:
    """Build the typed error for a refused call, with GitLab's reason as a sentence."""
    reason = reason_from_body(body) or fallback_text.strip()[:200]
    if not reason:
        reason = f"GitLab answered {status} to {operation or 'the request'}"
    message = as_sentence(reason)
    error_class = error_class_for(status)
    return error_class(message, status=status, operation=operation, body=body)
