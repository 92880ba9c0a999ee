"""Structured JSON logs that never carry secrets."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# Prefixes of GitLab's tokens (docs: "Token prefixes"); an instance prefix may come before them
# (``acme-glpat-...``), which the pattern still finds. ``GR1348941`` starts legacy runner
# registration tokens.
GITLAB_TOKEN_PREFIXES = (
    "glpat-",  # personal, project and group access tokens
    "gloas-",  # OAuth application secrets
    "gldt-",  # deploy tokens
    "glrt-",  # runner authentication tokens
    "glrtr-",  # runner authentication tokens (registration workflow)
    "glcbt-",  # CI/CD job tokens
    "glptt-",  # pipeline trigger tokens
    "glft-",  # feed tokens
    "glimt-",  # incoming mail tokens
    "glagent-",  # Kubernetes agent tokens
    "glsoat-",  # SCIM OAuth tokens
    "glffct-",  # feature flags client tokens
    "glwt-",  # workspace tokens
    "gltst-",  # OAuth tokens issued by the GitLab instance (gitlab-shell, tests)
    "glsa-",  # service account tokens
    "GR1348941",  # runner registration tokens (legacy)
)
_GITLAB_TOKEN = "|".join(re.escape(prefix) for prefix in GITLAB_TOKEN_PREFIXES)
# Names of things whose value is a credential: ``private-token``, ``X-Gitlab-Token``,
# ``access_token``, a bare ``token``, ``password``, ``client_secret``, ``api_key``...
# (``token_id`` names a row and is kept: the name must end right before ``:`` or ``=``).
# In lines, only the name's last word is matched (``x-gitlab-token: ...`` at ``token: ``),
# so the scan stays linear on long hostile lines.
_CREDENTIAL_WORDS = (
    r"(?:token|passw(?:or)?d|passphrase|secret|authorization|api[_-]?key|"
    r"private[_-]?key|credentials?|signature)"
)
_SECRET_NAME = rf"[\w.-]{{0,48}}{_CREDENTIAL_WORDS}"

_REDACTIONS = [
    # bearer credentials in headers
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/\-]+=*"), r"\1 [redacted]"),
    # cookies: the whole header value (several name=value pairs)
    (
        re.compile(r"(?i)\b((?:set-)?cookie)([\"']?\s*[:=]\s*[\"']?)([^\n\"'}]+)"),
        r"\1\2[redacted]",
    ),
    # token-like query parameters, headers and JSON fields
    (
        re.compile(rf"(?i)({_CREDENTIAL_WORDS})([\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}}]+)"),
        r"\1\2[redacted]",
    ),
    # credentials inside URLs of any scheme: https://user:token@, postgresql://u:pw@,
    # redis://:pw@
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,30}://)([^/\s:@]*):([^/\s@]+)@"),
        r"\1\2:[redacted]@",
    ),
    # GitLab tokens wherever they appear
    (re.compile(rf"(?:{_GITLAB_TOKEN})[A-Za-z0-9_.\-]{{8,}}"), "[redacted]"),
]
_SECRET_KEY = re.compile(rf"(?i)^(?:{_SECRET_NAME}|[\w.-]{{0,48}}cookies?)$")

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(text: str) -> str:
    """Remove anything that looks like a credential from a log line."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """A log field's value without credentials, at any depth.

    Strings are redacted like lines; in dicts, the value of a secret-named key is dropped
    whatever its type; lists and tuples are walked; numbers, booleans and ``None`` are kept;
    anything else is logged as its redacted ``str``.
    """
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {
            str(key): "[redacted]" if _SECRET_KEY.match(str(key)) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    return redact(str(value))


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
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            payload[key] = "[redacted]" if _SECRET_KEY.match(key) else redact_value(value)
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)
