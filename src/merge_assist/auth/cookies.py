"""The refresh token in an httpOnly cookie, for browsers, with a CSRF double-submit check.

A browser asks for it by sending ``X-Refresh-Transport: cookie`` when it signs in. Then:

- ``merge_assist_refresh`` holds the refresh token: httpOnly (scripts cannot read it),
  ``SameSite=Strict``, ``Path=/api/auth`` (sent only to the sign-in endpoints). It never
  appears in a response body.
- ``merge_assist_csrf`` is readable by the page (``Path=/``, ``SameSite=Strict``); the page
  echoes it in the ``X-CSRF-Token`` header when it refreshes or signs out with the cookie.
  The value is an HMAC of the refresh token under a key derived from the server's secret key
  for CSRF alone (``kit.crypto.derive_key``), so a cookie
  planted by someone else (e.g. from a sibling subdomain) does not pass either: the check
  compares header, cookie and the expected value with ``hmac.compare_digest``.

When the public URL is https both cookies are ``Secure`` and named with the ``__Host-`` prefix
(``__Host-merge_assist_refresh``, ``__Host-merge_assist_csrf``): browsers then accept them only
from this exact host, over https, with ``Path=/`` and no ``Domain`` — a sibling subdomain can
neither plant nor overwrite them. The prefix requires ``Path=/``, so over https the refresh
cookie goes to every path of this origin (still httpOnly and ``SameSite=Strict``). Over plain
http (the demo on loopback) the names stay unprefixed, since browsers refuse ``__Host-`` cookies
there.

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
HOST_PREFIX = "__Host-"


def wants_cookie(request: Request) -> bool:
    """Whether the client asked for its refresh token in a cookie."""
    return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == "cookie"


def _secure(settings: Settings) -> bool:
    return settings.effective_public_url.lower().startswith("https://")


def refresh_cookie_name(settings: Settings) -> str:
    """The refresh cookie's name: ``__Host-`` prefixed when served over https."""
    return HOST_PREFIX + REFRESH_COOKIE if _secure(settings) else REFRESH_COOKIE


def csrf_cookie_name(settings: Settings) -> str:
    """The CSRF cookie's name: ``__Host-`` prefixed when served over https."""
    return HOST_PREFIX + CSRF_COOKIE if _secure(settings) else CSRF_COOKIE


def _refresh_path(settings: Settings) -> str:
    """``/api/auth``, or ``/`` over https (what the ``__Host-`` prefix requires)."""
    return "/" if _secure(settings) else REFRESH_COOKIE_PATH


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
        refresh_cookie_name(settings),
        refresh_token,
        max_age=max_age,
        path=_refresh_path(settings),
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        csrf_cookie_name(settings),
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
        refresh_cookie_name(settings),
        path=_refresh_path(settings),
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(
        csrf_cookie_name(settings), path=CSRF_COOKIE_PATH, secure=secure, samesite="strict"
    )


def refresh_token_from_cookie(request: Request, settings: Settings) -> str | None:
    """The refresh token of the cookie, after the CSRF check (403); None without the cookie."""
    token = request.cookies.get(refresh_cookie_name(settings))
    if not token:
        return None
    sent = request.headers.get(CSRF_HEADER, "")
    csrf_cookie = csrf_cookie_name(settings)
    if not sent:
        raise Forbidden(
            f"The {CSRF_HEADER} header is missing: send the value of the {csrf_cookie} cookie "
            "with this request."
        )
    expected = csrf_token_for(settings, token).encode("ascii")
    cookie = request.cookies.get(csrf_cookie, "").encode("utf-8", "replace")
    header_ok = hmac.compare_digest(sent.encode("utf-8", "replace"), expected)
    cookie_ok = hmac.compare_digest(cookie, expected)
    if not (header_ok and cookie_ok):
        raise Forbidden(
            f"The {CSRF_HEADER} header does not match this sign-in; reload the page and try again."
        )
    return token
