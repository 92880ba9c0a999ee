"""Structured JSON logs that never carry secrets."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_REDACTIONS = [
    # bearer credentials in headers
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/\-]+=*"), r"\1 [redacted]"),
    # token-like query parameters and headers
    (
        re.compile(
            r"(?i)(private[-_]token|access_token|refresh_token|password|secret|authorization)"
            r"([\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]+)"
        ),
        r"\1\2[redacted]",
    ),
    # credentials inside URLs: https://user:token@host
    (re.compile(r"(https?://)([^/\s:@]+):([^/\s@]+)@"), r"\1\2:[redacted]@"),
    # GitLab personal access tokens
    (re.compile(r"glpat-[A-Za-z0-9_\-]{10,}"), "[redacted]"),
]

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(text: str) -> str:
    """Remove anything that looks like a credential from a log line."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = redact(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


# HTTP client libraries log every request at INFO (hundreds a minute against GitLab); the
# GitLab client counts its calls in the metrics instead. Their lines show at DEBUG.
_CHATTY_LIBRARIES = ("httpx", "httpcore")


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr at ``level`` (idempotent)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    quiet = root.getEffectiveLevel() > logging.DEBUG
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
