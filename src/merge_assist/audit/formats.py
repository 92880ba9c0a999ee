"""Export formats: JSON Lines (exact, re-verifiable) and CSV (for spreadsheets)."""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from merge_assist.audit.models import AuditEntry

COLUMNS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "success",
    "details",
    "prev_hash",
    "entry_hash",
)
# Spreadsheets run cells starting with these as formulas (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(enum.StrEnum):
    """Formats of ``GET /api/audit/export`` and ``merge-assist audit export``."""

    jsonl = "jsonl"
    csv = "csv"

    @property
    def media_type(self) -> str:
        """The HTTP content type."""
        return "application/x-ndjson" if self is ExportFormat.jsonl else "text/csv"


def as_record(entry: AuditEntry) -> dict[str, Any]:
    """An entry as plain JSON values, hashes included."""
    return {
        "id": entry.id,
        "occurred_at": entry.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "success": entry.success,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }


def jsonl_line(entry: AuditEntry) -> str:
    """One entry as one JSON line (newline included)."""
    return json.dumps(as_record(entry), ensure_ascii=False, sort_keys=True) + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def csv_header() -> str:
    """The CSV header line."""
    return _csv_line(list(COLUMNS))


def csv_line(entry: AuditEntry) -> str:
    """One entry as one CSV line; text that a spreadsheet would run as a formula gets a ``'``."""
    record = as_record(entry)
    return _csv_line([_csv_cell(record[column]) for column in COLUMNS])


async def render(entries: AsyncIterator[AuditEntry], fmt: ExportFormat) -> AsyncIterator[str]:
    """The export document, chunk by chunk."""
    if fmt is ExportFormat.csv:
        yield csv_header()
        async for entry in entries:
            yield csv_line(entry)
        return
    async for entry in entries:
        yield jsonl_line(entry)
