"""The refresh token in an httpOnly cookie, for browsers, with a CSRF double-submit check.

A browser asks for it by sending ``X-Refresh-Transport: cookie`` when it signs in. Then:

- ``merge_assist_refresh`` holds the refresh token: httpOnly (scripts cannot read it),
  ``SameSite=Strict``, ``Path=/api/auth`` (sent only to the sign-in endpoints), ``Secure`` when
  the public URL is https. It never appears in a response body.
- ``merge_assist_csrf`` is readable by the page (``Path=/``, ``SameSite=Strict``); the page
  echoes it in the ``X-CSRF-Token`` header when it refreshes or signs out with the cookie.
  The value is an HMAC of the refresh token under a key derived from the server's secret key
  for CSRF alone (``kit.crypto.derive_key``), so a cookie
  planted by someone else (e.g. from a sibling subdomain) does not pass either: the check
  compares header, cookie and the expected value with ``hmac.compare_digest``.

API clients keep sending the refresh token in the JSON body and never need any of this.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from merge_assist.kit.crypto import CSRF, derive_key
from merge_assist.kit.errors import Forbidden
from merge_assist.kit.settings import Settings

REFRESH_COOKIE = "merge_assist_refresh"
CSRF_COOKIE = "merge_assist_csrf"
CSRF_HEADER = "X-CSRF-Token"
TRANSPORT_HEADER = "X-Refresh-Transport"
REFRESH_COOKIE_PATH = "/api/auth"
CSRF_COOKIE_PATH = "/"


def wants_cookie(request: Request) -> bool:
    """Whether the client asked for its refresh token in a cookie."""
    return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == "cookie"


def _secure(settings: Settings) -> bool:
    return settings.effective_public_url.lower().startswith("https://")


def csrf_token_for(settings: Settings, refresh_token: str) -> str:
    """The CSRF token that goes with ``refresh_token`` (HMAC-SHA256 under the CSRF key)."""
    key = derive_key(settings.resolved_secret_key(), CSRF)
    message = b"merge-assist-csrf:" + refresh_token.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def set_session_cookies(response: Response, settings: Settings, refresh_token: str) -> None:
    """Put ``refresh_token`` and its CSRF token into the response's cookies."""
    max_age = settings.refresh_token_days * 24 * 3600
    secure = _secure(settings)
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=max_age,
        path=REFRESH_COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token_for(settings, refresh_token),
        max_age=max_age,
        path=CSRF_COOKIE_PATH,
        secure=secure,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    """Tell the browser to forget both cookies."""
    secure = _secure(settings)
    response.delete_cookie(
        REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path=CSRF_COOKIE_PATH, secure=secure, samesite="strict")


def refresh_token_from_cookie(request: Request, settings: Settings) -> str | None:
    """The refresh token of the cookie, after the CSRF check (403); None without the cookie."""
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        return None
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        raise Forbidden(
            f"The {CSRF_HEADER} header is missing: send the value of the {CSRF_COOKIE} cookie "
            "with this request."
        )
    expected = csrf_token_for(settings, token).encode("ascii")
    cookie = request.cookies.get(CSRF_COOKIE, "").encode("utf-8", "replace")
    header_ok = hmac.compare_digest(sent.encode("utf-8", "replace"), expected)
    cookie_ok = hmac.compare_digest(cookie, expected)
    if not (header_ok and cookie_ok):
        raise Forbidden(
            f"The {CSRF_HEADER} header does not match this sign-in; reload the page and try again."
        )
    return token
