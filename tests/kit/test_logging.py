from __future__ import annotations

import json
import logging

import pytest

from merge_assist.kit.logging import JsonFormatter, configure_logging, redact


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
