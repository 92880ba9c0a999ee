"""The explanation as text for a terminal (pure)."""

from __future__ import annotations

from merge_assist.assistant.schemas import Explanation


def render_text(found: Explanation) -> str:
    """Readable lines: the summary, reasons, strikes, batch, failing jobs and the next step."""
    lines = [f"{found.reference}  {found.title}", f"State: {found.queue_state}. {found.summary}"]
    if found.since is not None:
        lines.append(f"Since: {found.since.isoformat(timespec='seconds')}")
    if found.reasons:
        lines.append("Reasons:")
        lines += [f"  - {reason.text} ({reason.detail})" for reason in found.reasons]
    if found.waiting_for:
        lines.append("Waiting for: " + "; ".join(found.waiting_for))
    lines.append(f"Strikes: {found.strikes} of {found.max_strikes}")
    lines += [
        f"  - {strike.at.isoformat(timespec='seconds')}: {strike.text}"
        for strike in found.strike_history
    ]
    if found.batch is not None:
        batch = found.batch
        members = ", ".join(f"!{iid}" for iid in batch.members)
        verdict = "the culprit" if batch.is_culprit else "not the culprit"
        lines.append(f"Batch {batch.id} ({batch.status}) with {members}: this MR was {verdict}.")
    for job in found.failing_jobs:
        lines.append(f"Failed job {job.name} (#{job.id}):")
        lines += [f"  | {line}" for line in job.excerpt]
    lines += [f"Note: {note}" for note in found.notes]
    lines.append(f"Next: {found.next_step}")
    summary = found.ai_summary
    if summary is not None:
        if summary.text:
            lines.append(f"AI summary ({summary.model}, AI-generated, advisory):")
            lines += [f"  {line}" for line in summary.text.splitlines()]
        elif summary.note:
            lines.append(summary.note)
    return "\n".join(lines)
