"""The results table in Markdown (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS: tuple[tuple[str, str], ...] = (
    ("world", "world"),
    ("contender", "contender"),
    ("complete", "done"),
    ("makespan_s", "makespan s"),
    ("merged", "merged"),
    ("rejected", "rejected"),
    ("wrongly_rejected", "wrongly rej."),
    ("merged_per_hour", "merged/h"),
    ("pipelines", "pipelines"),
    ("pipelines_per_merged", "pipelines/merged"),
    ("runner_seconds_per_merged", "runner s/merged"),
    ("api_calls", "API calls"),
    ("api_calls_per_merged", "API calls/merged"),
    ("git_requests", "git requests"),
    ("latency_p50_s", "latency p50 s"),
    ("latency_p95_s", "latency p95 s"),
    ("green_main", "green main"),
    ("merged_twice", "merged twice"),
)


def cell(value: Any) -> str:
    """How one value reads in the table."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, tuple | list):
        return ", ".join(f"!{iid}" for iid in value) if value else "none"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:g}"
    return str(value)


def row_of(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """A flat row from a run's ``as_dict()``."""
    figures = outcome.get("figures") or {}
    row = {"world": outcome["world"], "contender": outcome["contender"], **figures}
    if not figures:
        row["complete"] = False
    return row


def markdown(outcomes: Iterable[Mapping[str, Any]]) -> str:
    """One row per run, then the errors of runs that did not finish."""
    header = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|" + "---|" * len(COLUMNS)
    lines = [header, rule]
    notes = []
    for outcome in outcomes:
        row = row_of(outcome)
        lines.append("| " + " | ".join(cell(row.get(key)) for key, _ in COLUMNS) + " |")
        if outcome.get("error"):
            notes.append(f"- {outcome['world']} / {outcome['contender']}: {outcome['error']}")
    return "\n".join(lines + (["", *notes] if notes else [])) + "\n"
