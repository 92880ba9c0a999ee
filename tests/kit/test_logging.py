from __future__ import annotations

import json
import logging

import pytest

from merge_assist.kit.log_setup import configure_logging
from merge_assist.kit.logging import JsonFormatter, redact


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("PRIVATE-TOKEN: glpat-abcdefghijklmnopqrstu", "glpat-abcdefghijklmnopqrstu"),
        ("cloning https://oauth2:s3cr3tvalue@gitlab.example/x.git", "s3cr3tvalue"),
        ("login password=hunter2hunter2 failed", "hunter2hunter2"),
        ('{"refresh_token": "abc.def.ghi"}', "abc.def.ghi"),
        ("Authorization: Bearer eyJhbGciOi", "eyJhbGciOi"),
    ],
)
def test_redact_removes_credentials(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_redact_keeps_ordinary_text() -> None:
    assert redact("merged !12 into main") == "merged !12 into main"


def test_json_lines_carry_extra_fields_redacted() -> None:
    record = logging.makeLogRecord(
        {"name": "t", "levelname": "INFO", "msg": "push %s", "args": ("https://u:tok@h/r.git",)}
    )
    record.project_id = 7
    record.url = "https://oauth2:glpat-0123456789abcdef@h/r.git"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "push https://u:[redacted]@h/r.git"
    assert line["project_id"] == 7
    assert "glpat-0123456789abcdef" not in line["url"]


def test_configure_logging_writes_json(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    logging.getLogger("merge_assist.test").info("hello", extra={"mr": 3})
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(err)["mr"] == 3


def test_http_client_request_lines_show_only_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        configure_logging("INFO")
        logging.getLogger("httpx").info("HTTP Request: GET http://gitlab/api/v4/user")
        assert capsys.readouterr().err == ""
        configure_logging("DEBUG")
        logging.getLogger("httpx").info("HTTP Request: GET http://gitlab/api/v4/user")
        assert "HTTP Request" in capsys.readouterr().err
    finally:
        logging.getLogger("httpx").setLevel(logging.NOTSET)


# Issue 13, item 14: what the redaction missed.
@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("X-Gitlab-Token: hook-secret-1234", "hook-secret-1234"),
        ('headers={"x-gitlab-token": "hook-secret-1234"}', "hook-secret-1234"),
        ("Cookie: ma_refresh=abc.def.ghi; ma_csrf=xyz123", "abc.def.ghi"),
        ("Cookie: ma_refresh=abc.def.ghi; ma_csrf=xyz123", "xyz123"),
        ("set-cookie: __Host-ma_refresh=r3fr3sh; Path=/", "r3fr3sh"),
        ("GET /api/updates?token=eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9"),
        ("token: 0123456789abcdef", "0123456789abcdef"),
        ("client_secret=s3cr3t-value", "s3cr3t-value"),
        ("postgresql+asyncpg://merge:pg-pass-99@db:5432/ma", "pg-pass-99"),
        ("redis://:redis-pass-77@cache:6379/0", "redis-pass-77"),
        ("redis://default:redis-pass-77@cache:6379/0", "redis-pass-77"),
        ("token glpat-abcdefghij.01.0w3x4y5z", "abcdefghij.01.0w3x4y5z"),
        ("acme-glpat-abcdefghijklmnop in a custom instance prefix", "abcdefghijklmnop"),
    ],
)
def test_redact_covers_headers_cookies_urls_and_bare_tokens(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned, cleaned
    assert "[redacted]" in cleaned


@pytest.mark.parametrize(
    "prefix",
    [
        "glpat-",
        "gloas-",
        "gldt-",
        "glrt-",
        "glrtr-",
        "glcbt-",
        "glptt-",
        "glft-",
        "glimt-",
        "glagent-",
        "glsoat-",
        "glffct-",
        "GR1348941",
    ],
)
def test_redact_removes_every_gitlab_token_kind(prefix: str) -> None:
    token = prefix + "Zx9_Qw8-Er7Ty6Ui5Op4"
    assert redact(f"sent {token} to gitlab") == "sent [redacted] to gitlab"


def test_redact_keeps_names_of_rows_and_plain_words() -> None:
    line = "revoked token_id=42 for project 7; tokens: 3 active"
    assert redact(line) == line


def test_non_string_extra_values_are_redacted_at_any_depth() -> None:
    record = logging.makeLogRecord({"name": "t", "levelname": "INFO", "msg": "call"})
    record.request = {
        "headers": {"X-Gitlab-Token": "hook-secret-1234", "Accept": "json"},
        "cookies": ["ma_refresh=abc.def.ghi"],
        "nested": [{"password": 1234567}, ("https://u:pw-in-tuple@h/r.git", 3)],
        "url": "redis://:redis-pass-77@cache:6379",
    }
    record.token = 987654321  # a secret-named field, whatever its type
    record.attempts = 3
    line = json.loads(JsonFormatter().format(record))
    text = json.dumps(line)
    for secret in ("hook-secret-1234", "abc.def.ghi", "1234567", "pw-in-tuple", "redis-pass-77"):
        assert secret not in text
    assert "987654321" not in text
    assert line["request"]["headers"]["Accept"] == "json"
    assert line["request"]["nested"][1][1] == 3
    assert line["attempts"] == 3
