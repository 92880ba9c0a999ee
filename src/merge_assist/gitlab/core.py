"""The transport under every GitLab call: timeouts, retries, errors, pagination, accounting.

The token travels only in a header (``PRIVATE-TOKEN`` for the REST API, HTTP Basic
``oauth2:<token>`` for Git LFS) and is never logged: a log line names the method, the endpoint
*template* (``/projects/{project}/merge_requests/{iid}``), the status and the duration. Redirects
are not followed, so the header can never be replayed to another host.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Self

import httpx

from merge_assist.gitlab.calls import (
    AuthKind,
    Call,
    clean_params,
    drop_none,
    fill_template,
    split_base_url,
)
from merge_assist.gitlab.errors import (
    GitLabError,
    GitLabRateLimited,
    GitLabTooManyPages,
    GitLabUnavailable,
    as_sentence,
    error_from_response,
)
from merge_assist.gitlab.metrics import (
    GITLAB_CALLS,
    GITLAB_ERRORS,
    GITLAB_LATENCY,
    GITLAB_RETRIES,
)
from merge_assist.gitlab.retry import (
    RETRYABLE_STATUSES,
    TOO_MANY_REQUESTS,
    RetryPolicy,
    may_retry_ambiguous,
    parse_retry_after,
)

log = logging.getLogger("merge_assist.gitlab")

ProjectRef = int | str
"""A project id (``42``) or its full path (``group/sub/app``); paths are URL-encoded for you."""

Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
DEFAULT_MAX_PAGES = 100
PER_PAGE = 100
LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"

# Failures where GitLab cannot have received the request: safe to resend for any method.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after (maybe) sending: resend only idempotent or caller-marked calls.
_AMBIGUOUS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _outcome_of(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    return "error"


class GitLabCore:
    """HTTP plumbing shared by the resource mixins of :class:`GitLabClient`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        max_pages: int = DEFAULT_MAX_PAGES,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        user_agent: str = "merge-assist",
    ) -> None:
        if not token or not token.strip():
            raise ValueError("A GitLab token is required.")
        if retry.max_retries < 0 or max_pages < 1:
            raise ValueError("max_retries must be >= 0 and max_pages >= 1.")
        self.web_url, self.api_url = split_base_url(base_url)
        self._token = token.strip()
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.policy = retry
        self.max_pages = max_pages
        self.calls: Counter[str] = Counter()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
        )

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}({self.web_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # -- building calls -------------------------------------------------------------------

    def api_call(
        self,
        method: str,
        template: str,
        *,
        operation: str,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry_safe: bool = False,
        timeout: httpx.Timeout | None = None,
    ) -> Call:
        """A REST API v4 call to ``template`` (relative to ``/api/v4``)."""
        return Call(
            method=method.upper(),
            url=self.api_url + fill_template(template, path_params),
            endpoint=template,
            operation=operation,
            params=clean_params(params),
            json=drop_none(json),
            retry_safe=retry_safe,
            timeout=timeout,
        )

    def _auth_headers(self, kind: AuthKind) -> dict[str, str]:
        if kind == "lfs":
            basic = base64.b64encode(f"oauth2:{self._token}".encode()).decode("ascii")
            return {
                "Authorization": f"Basic {basic}",
                "Accept": LFS_MEDIA_TYPE,
                "Content-Type": LFS_MEDIA_TYPE,
            }
        return {"PRIVATE-TOKEN": self._token, "Accept": "application/json"}

    # -- sending --------------------------------------------------------------------------

    async def send(self, call: Call) -> httpx.Response:
        """Send ``call``, retrying by the rule in :mod:`merge_assist.gitlab.retry`; 2xx only."""
        try:
            return await self._send_with_retries(call)
        except GitLabError as exc:
            GITLAB_ERRORS.labels(call.operation, exc.code).inc()
            raise

    async def _send_with_retries(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._send_once(call, attempt)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, _NEVER_SENT)
                retryable = never_sent or (
                    isinstance(exc, _AMBIGUOUS)
                    and may_retry_ambiguous(call.method, retry_safe=call.retry_safe)
                )
                if retryable and attempt < self.policy.max_retries:
                    await self._wait(call, attempt, None, _outcome_of(exc))
                    attempt += 1
                    continue
                raise self._unreachable(call, exc, attempt + 1) from exc
            status = response.status_code
            if status < 300:
                return response
            if status < 400:
                raise GitLabError(
                    f"GitLab answered {call.operation} with a redirect ({status}); "
                    "check the GitLab URL (http or https, path prefix).",
                    status=status,
                    operation=call.operation,
                )
            if await self._should_retry_status(call, response, attempt):
                attempt += 1
                continue
            raise self._refusal(call, response, attempt + 1)

    async def _send_once(self, call: Call, attempt: int) -> httpx.Response:
        headers = {**self._auth_headers(call.auth), **call.headers}
        started = time.monotonic()
        outcome = "error"
        try:
            response = await self._http.request(
                call.method,
                call.url,
                params=call.params,
                json=call.json,
                headers=headers,
                timeout=call.timeout or self.timeout,
            )
            outcome = str(response.status_code)
            return response
        except httpx.TransportError as exc:
            outcome = _outcome_of(exc)
            raise
        finally:
            duration = time.monotonic() - started
            self.calls[call.operation] += 1
            GITLAB_CALLS.labels(call.operation, outcome).inc()
            GITLAB_LATENCY.labels(call.operation).observe(duration)
            log.debug(
                "gitlab call",
                extra={
                    "operation": call.operation,
                    "http_method": call.method,
                    "endpoint": call.endpoint,
                    "status": outcome,
                    "duration_ms": round(duration * 1000, 1),
                    "attempt": attempt + 1,
                },
            )

    async def _should_retry_status(
        self, call: Call, response: httpx.Response, attempt: int
    ) -> bool:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == TOO_MANY_REQUESTS:
            # The rate limiter refuses before the endpoint runs: any method may be resent.
            if retry_after is not None and retry_after > self.policy.max_retry_after:
                return False
        elif not (
            status in RETRYABLE_STATUSES
            and may_retry_ambiguous(call.method, retry_safe=call.retry_safe)
        ):
            return False
        if attempt >= self.policy.max_retries:
            return False
        if retry_after is not None:
            retry_after = min(retry_after, self.policy.max_retry_after)
        await self._wait(call, attempt, retry_after, str(status))
        return True

    async def _wait(self, call: Call, attempt: int, retry_after: float | None, reason: str) -> None:
        delay = retry_after if retry_after is not None else self.policy.backoff_delay(attempt)
        GITLAB_RETRIES.labels(call.operation, reason).inc()
        log.warning(
            "gitlab call retried",
            extra={
                "operation": call.operation,
                "http_method": call.method,
                "endpoint": call.endpoint,
                "status": reason,
                "attempt": attempt + 1,
                "retry_in_s": round(delay, 3),
            },
        )
        await self._sleep(delay)

    def _unreachable(self, call: Call, exc: httpx.TransportError, attempts: int) -> GitLabError:
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else "could not connect"
        if not isinstance(exc, (*_NEVER_SENT, httpx.TimeoutException)):
            what = "lost the connection"
        return GitLabUnavailable(
            as_sentence(
                f"GitLab is unavailable: {call.operation} {what} "
                f"({type(exc).__name__}) after {_attempts(attempts)}"
            ),
            operation=call.operation,
        )

    def _refusal(self, call: Call, response: httpx.Response, attempts: int) -> GitLabError:
        status = response.status_code
        body = _json_or_none(response)
        if status == TOO_MANY_REQUESTS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return GitLabRateLimited(
                as_sentence(
                    f"GitLab is rate limiting {call.operation}; retry in "
                    f"{retry_after if retry_after is not None else 'a while'} seconds"
                ),
                retry_after=retry_after,
                status=status,
                operation=call.operation,
                body=body,
            )
        error = error_from_response(
            status, body, operation=call.operation, fallback_text=response.reason_phrase
        )
        if isinstance(error, GitLabUnavailable):
            error.message = as_sentence(
                f"GitLab is unavailable: {call.operation} answered {status} "
                f"{response.reason_phrase} after {_attempts(attempts)}"
            )
            error.args = (error.message,)
        log.info(
            "gitlab call refused",
            extra={"operation": call.operation, "endpoint": call.endpoint, "status": status},
        )
        return error

    # -- reading --------------------------------------------------------------------------

    async def json(self, call: Call) -> Any:
        """Send ``call`` and return its JSON body (None for an empty body)."""
        response = await self.send(call)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise GitLabError(
                f"GitLab answered {call.operation} with a body that is not JSON.",
                status=response.status_code,
                operation=call.operation,
            ) from exc

    async def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        path_params: Mapping[str, object] | None = None,
        operation: str | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list endpoint, 100 per page, following ``X-Next-Page``.

        Raises :class:`GitLabTooManyPages` rather than silently truncating when more than
        ``max_pages`` pages (default: the client's bound) would be needed.
        """
        bound = max_pages or self.max_pages
        page: int | str = 1
        for fetched in range(1, bound + 1):
            call = self.api_call(
                "GET",
                path,
                operation=operation or f"GET {path}",
                path_params=path_params,
                params={**(params or {}), "per_page": PER_PAGE, "page": page},
            )
            response = await self.send(call)
            items = _json_or_none(response)
            if not isinstance(items, list):
                raise GitLabError(
                    f"GitLab answered {call.operation} without a list.",
                    status=response.status_code,
                    operation=call.operation,
                )
            for item in items:
                yield item
            next_page = response.headers.get("X-Next-Page", "").strip()
            if not next_page or not items:
                return
            if fetched == bound:
                raise GitLabTooManyPages(
                    f"Listing {call.operation} needs more than {bound} pages; "
                    "narrow the query or raise the page bound.",
                    operation=call.operation,
                )
            page = next_page


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
