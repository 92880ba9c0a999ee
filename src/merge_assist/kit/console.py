"""Readable log lines for a person at a terminal, with a running summary of the queue.

``configure_logging`` uses this handler when the log goes to a terminal (``log_format`` ``auto``)
or when asked (``text``); otherwise JSON lines (``kit.logging.JsonFormatter``). One line per
thing that happened (time, project, merge request, what happened); the webhook deliveries and
the dashboard's requests are only counted. At a terminal the last line is a summary that is
rewritten in place: webhooks received, MRs recognised, in a batch now, merged, rejected.

The queue's log lines carry ``project``, ``iid``, ``event`` and ``iids`` in their ``extra``
(``merging.persistence.records.append_logs``); this module reads them without importing the
merge queue (kit is the bottom layer).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from merge_assist.kit.logging import redact

# ``127.0.0.1:55604 - "POST /webhook/gitlab HTTP/1.1" 202`` (uvicorn's access line)
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3})')
_CLEAR_LINE = "\r\x1b[K"
# Fields that only repeat what the line says or are noise to a person.
_HIDDEN_FIELDS = frozenset(
    {"color_message", "project", "project_id", "iid", "iids", "event", "target_branch", "token"}
)

Key = tuple[str, int]


@dataclass
class QueueTally:
    """What the summary line counts: MRs (project, iid) by what happened to them."""

    webhooks: int = 0
    recognised: set[Key] = field(default_factory=set)
    in_batch: set[Key] = field(default_factory=set)
    merged: set[Key] = field(default_factory=set)
    rejected: set[Key] = field(default_factory=set)

    def count(self, event: str, project: str, iids: list[int]) -> None:
        """Take one queue event about ``iids`` of ``project`` into account."""
        keys = {(project, iid) for iid in iids}
        if event == "recognised":
            self.recognised |= keys
            self.rejected -= keys  # recognised again after a rejection
        elif event in {"batch_started", "train_car_started"}:
            self.in_batch |= keys
        elif event in {"merged", "batch_landed"}:
            self.merged |= keys
            self.in_batch -= keys
        elif event == "rejected":
            self.rejected |= keys
            self.in_batch -= keys
        elif event in {"removed", "struck", "culprit", "batch_ended", "train_car_failed"}:
            self.in_batch -= keys

    def summary(self) -> str:
        return (
            f"webhooks {self.webhooks} · recognised {len(self.recognised)} · "
            f"in batch {len(self.in_batch)} · merged {len(self.merged)} · "
            f"rejected {len(self.rejected)}"
        )


def _iids_of(record: logging.LogRecord) -> list[int]:
    iids = getattr(record, "iids", None)
    if isinstance(iids, list | tuple) and iids:
        return [int(iid) for iid in iids]
    iid = getattr(record, "iid", None)
    return [int(iid)] if isinstance(iid, int) else []


def _project_of(record: logging.LogRecord) -> str | None:
    project = getattr(record, "project", None)
    if isinstance(project, str) and project:
        return project
    project_id = getattr(record, "project_id", None)
    return f"project {project_id}" if project_id is not None else None


def readable_line(record: logging.LogRecord) -> str:
    """``19:45:43  demo/widgets  !3 recognised for the queue`` (redacted, one line)."""
    parts = [datetime.fromtimestamp(record.created).strftime("%H:%M:%S")]
    if record.levelno >= logging.WARNING:
        parts.append(record.levelname)
    project = _project_of(record)
    if project:
        parts.append(project)
    message = record.getMessage()
    iid = getattr(record, "iid", None)
    if isinstance(iid, int) and not re.search(rf"!{iid}\b", message):
        parts.append(f"!{iid}")  # the MR, unless the message names it already
    extras = [
        f"{key}={value}"
        for key, value in vars(record).items()
        if key not in _STANDARD and key not in _HIDDEN_FIELDS and not key.startswith("_")
    ]
    if extras:
        message += f" ({', '.join(extras)})"
    if record.exc_info:
        message += "\n" + logging.Formatter().formatException(record.exc_info)
    return redact("  ".join([*parts, message]))


_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class ConsoleHandler(logging.Handler):
    """Readable lines on ``stream``; with ``live_summary`` the summary stays as the last line."""

    def __init__(self, stream: IO[str], *, live_summary: bool) -> None:
        super().__init__()
        self.stream = stream
        self.live_summary = live_summary
        self.tally = QueueTally()
        self._shown = ""
        self._write_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self._line_for(record)
            with self._write_lock:
                summary = self.tally.summary()
                if line is None and summary == self._shown:
                    return
                text = _CLEAR_LINE if self.live_summary and self._shown else ""
                if line is not None:
                    text += line + "\n"
                if self.live_summary:
                    text += summary
                    self._shown = summary
                self.stream.write(text)
                self.stream.flush()
        except Exception:
            self.handleError(record)

    def _line_for(self, record: logging.LogRecord) -> str | None:
        """The line to print (None: only counted)."""
        if record.name == "uvicorn.access":
            return self._access_line(record)
        event = getattr(record, "event", None)
        if isinstance(event, str):
            self.tally.count(event, _project_of(record) or "", _iids_of(record))
        return readable_line(record)

    def _access_line(self, record: logging.LogRecord) -> str | None:
        """Webhook deliveries are counted; requests that went well are not shown."""
        found = _ACCESS.search(record.getMessage())
        if found is None:
            return readable_line(record)
        if found["path"].startswith("/webhook"):
            self.tally.webhooks += 1
        if int(found["status"]) < 400:
            return None
        return readable_line(record)


def wants_text(log_format: str, stream: Any) -> bool:
    """``text``, or ``auto`` and ``stream`` is a terminal."""
    if log_format == "text":
        return True
    if log_format == "json":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
