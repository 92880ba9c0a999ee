from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from merge_assist.auth.tokens import (
    InvalidAccessToken,
    hash_token,
    issue_access_token,
    new_family_id,
    new_refresh_token,
    read_access_token,
    signing_key,
)
from merge_assist.kit.clock import utcnow

KEY = "unit-test-signing-key-0123456789abcdef"
OTHER_KEY = "another-signing-key-0123456789abcdef00"


def test_access_token_round_trip() -> None:
    issued = issue_access_token(42, key=KEY, minutes=15)
    assert issued.expires_in == 900
    assert read_access_token(issued.token, key=KEY) == 42


def test_access_token_claims() -> None:
    now = utcnow()
    token = issue_access_token(7, key=KEY, minutes=5, now=now).token
    claims = jwt.decode(token, signing_key(KEY), algorithms=["HS256"])
    assert claims["sub"] == "7"
    assert claims["type"] == "access"
    assert claims["exp"] == int(now.timestamp()) + 300
    # iat to the microsecond: compared with the user's tokens_valid_after.
    assert claims["iat"] == round(now.timestamp(), 6)
    assert len(claims["jti"]) == 32
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_each_token_has_its_own_id() -> None:
    key = signing_key(KEY)
    first = jwt.decode(issue_access_token(1, key=KEY, minutes=5).token, key, algorithms=["HS256"])
    second = jwt.decode(issue_access_token(1, key=KEY, minutes=5).token, key, algorithms=["HS256"])
    assert first["jti"] != second["jti"]


def test_expired_token_is_refused_with_its_reason() -> None:
    token = issue_access_token(1, key=KEY, minutes=5, now=utcnow() - timedelta(hours=1)).token
    with pytest.raises(InvalidAccessToken, match="expired"):
        read_access_token(token, key=KEY)


def test_other_key_is_refused() -> None:
    token = issue_access_token(1, key=OTHER_KEY, minutes=5).token
    with pytest.raises(InvalidAccessToken, match="not valid"):
        read_access_token(token, key=KEY)


def test_tampered_token_is_refused() -> None:
    token = issue_access_token(1, key=KEY, minutes=5).token
    header, _payload, signature = token.split(".")
    forged = jwt.encode({"sub": "2"}, "x" * 40, algorithm="HS256").split(".")[1]
    with pytest.raises(InvalidAccessToken):
        read_access_token(f"{header}.{forged}.{signature}", key=KEY)
    with pytest.raises(InvalidAccessToken):
        read_access_token("not a token", key=KEY)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "1", "iat": 0, "jti": "x", "type": "refresh"},
        {"sub": "1", "iat": 0, "jti": "x"},
        {"sub": "abc", "iat": 0, "jti": "x", "type": "access"},
        {"iat": 0, "jti": "x", "type": "access"},
    ],
)
def test_wrong_type_or_missing_claims_are_refused(claims: dict[str, object]) -> None:
    claims = {**claims, "exp": int((utcnow() + timedelta(minutes=5)).timestamp())}
    token = jwt.encode(claims, signing_key(KEY), algorithm="HS256")  # well signed
    with pytest.raises(InvalidAccessToken):
        read_access_token(token, key=KEY)


def test_none_algorithm_is_refused() -> None:
    claims = {"sub": "1", "iat": 0, "jti": "x", "type": "access", "exp": 2**40}
    token = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(InvalidAccessToken):
        read_access_token(token, key=KEY)


def test_refresh_tokens_are_random_and_hashed_as_sha256_hex() -> None:
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second
    assert len(first) >= 43
    digest = hash_token(first)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == hash_token(first)
    assert digest != hash_token(second)
    assert new_family_id() != new_family_id()
