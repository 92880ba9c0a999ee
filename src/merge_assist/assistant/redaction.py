"""What is removed from text before it leaves for an AI endpoint (pure).

First the log redaction (``kit.logging.redact``: GitLab tokens, bearer and basic credentials,
``password=``/``token:`` values, passwords in URLs, cookies), then what a log line may still
carry that only matters once text leaves the instance: private key blocks, JSON web tokens,
AWS access key ids, long hexadecimal or base64 strings (keys, signed blobs) and e-mail
addresses. A placeholder says what was there, so the summary still reads.
"""

from __future__ import annotations

import re

from merge_assist.kit.logging import redact

_PRIVATE_KEY = r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
# Base64 of 30 bytes or more with at least one digit and one letter (a long identifier such
# as a Java class name has no digits, a long number no letters).
_BASE64 = (
    r"(?<![\w/+=.-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])"
    r"[A-Za-z0-9+/_-]{40,}={0,2}(?![\w/+=-])"
)
_EXTRA: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_PRIVATE_KEY, re.S), "[redacted private key]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[redacted jwt]"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "[redacted key id]"),
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), "[redacted hex]"),
    (re.compile(_BASE64), "[redacted base64]"),
    (re.compile(r"\b[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+\b"), "[email]"),
)


def redact_for_ai(text: str) -> str:
    """``text`` without credentials, secret-looking strings or e-mail addresses."""
    text = redact(text)
    for pattern, replacement in _EXTRA:
        text = pattern.sub(replacement, text)
    return text
