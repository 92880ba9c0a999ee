"""Log lines people read on the dashboard: what the queue did and what it recorded."""

from __future__ import annotations

from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import ActionResult
from merge_assist.merging.persistence.models import MergeHistoryEntry
from merge_assist.merging.persistence.records import LogLine


def _short(sha: str | None) -> str:
    return (sha or "?")[:12]


def _status(result: ActionResult | None) -> str:
    status = getattr(result, "status", None)
    return f": {status}" if status else ""


def describe_action(action: act.Action, result: ActionResult | None) -> LogLine:
    """An info line for one action performed on GitLab."""
    iid: int | None = getattr(action, "iid", None)
    match action:
        case act.AddLabels(labels=labels, remove=removed):
            text = f"labelled !{iid} {', '.join(labels)}"
            if removed:
                text += f" (removed {', '.join(removed)})"
        case act.RemoveLabels(labels=labels):
            text = f"removed label(s) {', '.join(labels)} from !{iid}"
        case act.PostComment(template=template):
            text = f"commented on !{iid} ({template})"
        case act.Unassign():
            text = f"unassigned the bot from !{iid}"
        case act.Rebase(onto_sha=onto):
            text = f"rebased !{iid} onto {_short(onto)}{_status(result)}"
        case act.BuildBatch(branch=branch, base_sha=base, members=members):
            names = ", ".join(f"!{m.iid}" for m in members)
            text = f"built batch branch {branch} from {_short(base)} with {names}{_status(result)}"
        case act.CreateBatchMR(branch=branch):
            opened = getattr(result, "iid", None)
            text = f"opened batch merge request {f'!{opened} ' if opened else ''}from {branch}"
        case act.RunPipeline(ref=ref, sha=sha):
            pipeline = getattr(result, "pipeline_id", None)
            text = f"pipeline {pipeline or '?'} runs for {_short(sha)} on {ref}"
        case act.MergeMR(sha=sha):
            text = f"merged !{iid} at {_short(sha)} through GitLab{_status(result)}"
        case act.PushTarget(target_branch=branch, sha=sha):
            text = f"pushed {branch} to {_short(sha)}{_status(result)}"
        case act.CloseBatchMR():
            text = f"closed batch merge request !{iid}"
        case act.DeleteBranch(branch=branch):
            text = f"deleted branch {branch}"
        case _:
            text = action.kind
    return LogLine("info", text, iid, {"action": action.kind, "key": action.key})


def describe_history(entry: MergeHistoryEntry) -> LogLine:
    """An info line for a new merge-history entry."""
    names = ", ".join(f"!{iid}" for iid in entry.iids)
    iid = entry.iids[0] if len(entry.iids) == 1 else None
    details = {key: str(value) for key, value in entry.details.items()}
    sha = _short(details.get("sha"))
    texts = {
        "recognised": f"{names} recognised for the queue",
        "removed": f"{names} left the queue: {details.get('reason', '')}",
        "struck": f"{names} struck ({details.get('cause', '')}, strike {details.get('strikes')})",
        "rejected": f"{names} rejected",
        "merged": f"{names} merged into {entry.target_branch} ({sha})",
        "batch_started": f"batch started with {names}",
        "batch_landed": f"batch landed {names} ({sha})",
        "culprit": f"batch culprit found: {names}",
        "batch_ended": f"batch ended early ({details.get('reason', '')}); back to the queue: "
        f"{names or 'none'}",
        "batch_finished": f"batch finished: landed {details.get('landed') or 'none'}, "
        f"culprits {details.get('culprits') or 'none'}",
    }
    message = texts.get(entry.event, f"{entry.event}: {names}")
    return LogLine("info", message, iid, {"event": entry.event, **details})
