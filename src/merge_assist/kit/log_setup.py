"""Where the process log goes: JSON lines (``kit.logging``) or, at a terminal, readable lines
with a running summary (``kit.console``)."""

from __future__ import annotations

import logging
import sys

from merge_assist.kit.console import ConsoleHandler, wants_text
from merge_assist.kit.logging import JsonFormatter

# HTTP client libraries log every request at INFO (hundreds a minute against GitLab); the
# GitLab client counts its calls in the metrics instead. Their lines show at DEBUG.
_CHATTY_LIBRARIES = ("httpx", "httpcore")


def configure_logging(level: str = "INFO", log_format: str = "json") -> None:
    """Send the log to stderr at ``level`` (idempotent): JSON lines, or with ``log_format``
    ``text`` (or ``auto`` at a terminal) readable lines and a running summary
    (``kit.console``)."""
    root = logging.getLogger()
    handler: logging.Handler
    if wants_text(log_format, sys.stderr):
        handler = ConsoleHandler(sys.stderr, live_summary=sys.stderr.isatty())
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    quiet = root.getEffectiveLevel() > logging.DEBUG
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
