"""Access tokens and CSRF values use keys derived from the secret key, never the key itself."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from pathlib import Path

import jwt
import pytest

from merge_assist.auth.cookies import csrf_token_for
from merge_assist.auth.tokens import (
    InvalidAccessToken,
    issue_access_token,
    read_access_token,
    signing_key,
)
from merge_assist.kit.clock import utcnow
from merge_assist.kit.crypto import CSRF, derive_key
from merge_assist.kit.settings import Environment, Settings

SECRET = "secret-key-for-derived-key-tests-0123456789"


def test_access_tokens_are_signed_with_the_derived_key() -> None:
    token = issue_access_token(7, key=SECRET, minutes=5).token
    claims = jwt.decode(token, signing_key(SECRET), algorithms=["HS256"])
    assert claims["sub"] == "7"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"])


def test_a_token_signed_with_the_secret_key_itself_is_refused() -> None:
    now = int(utcnow().timestamp())
    claims = {"sub": "7", "iat": now, "exp": now + 300, "jti": "x", "type": "access"}
    raw = jwt.encode(claims, SECRET.encode(), algorithm="HS256")
    with pytest.raises(InvalidAccessToken):
        read_access_token(raw, key=SECRET)


def test_the_csrf_value_uses_its_own_key(tmp_path: Path) -> None:
    settings = Settings(
        environment=Environment.test,
        data_dir=tmp_path,
        secret_key=SECRET,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    refresh = uuid.uuid4().hex
    message = b"merge-assist-csrf:" + refresh.encode()
    with_secret = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    with_jwt_key = hmac.new(signing_key(SECRET), message, hashlib.sha256).hexdigest()
    expected = hmac.new(derive_key(SECRET, CSRF), message, hashlib.sha256).hexdigest()
    assert csrf_token_for(settings, refresh) == expected
    assert expected not in (with_secret, with_jwt_key)
