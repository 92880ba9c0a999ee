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
    if isinstance(action, act.RetryPipeline) and len(action.iids) == 1:
        iid = action.iids[0]
    text = _merge_request_text(action, iid, result)
    if text is None:
        text = _branch_text(action, result)
    if text is None:
        text = action.kind
    return LogLine("info", text, iid, {"action": action.kind, "key": action.key})


def _merge_request_text(
    action: act.Action, iid: int | None, result: ActionResult | None
) -> str | None:
    """What an action on one merge request did (None: not such an action)."""
    match action:
        case act.AddLabels(labels=labels, remove=removed):
            text = f"labelled !{iid} {', '.join(labels)}"
            return text + f" (removed {', '.join(removed)})" if removed else text
        case act.RemoveLabels(labels=labels):
            return f"removed label(s) {', '.join(labels)} from !{iid}"
        case act.PostComment(template=template):
            return f"commented on !{iid} ({template})"
        case act.Unassign():
            return f"unassigned the bot from !{iid}"
        case act.Rebase(onto_sha=onto):
            return f"rebased !{iid} onto {_short(onto)}{_status(result)}"
        case act.MergeMR(sha=sha):
            return f"merged !{iid} at {_short(sha)} through GitLab{_status(result)}"
        case act.CloseBatchMR():
            return f"closed batch merge request !{iid}"
    return None


def _branch_text(action: act.Action, result: ActionResult | None) -> str | None:
    """What an action on a branch, a pipeline or a batch did (None: not such an action)."""
    match action:
        case act.BuildBatch(branch=branch, base_sha=base, members=members):
            names = ", ".join(f"!{m.iid}" for m in members)
            return f"built batch branch {branch} from {_short(base)} with {names}{_status(result)}"
        case act.CreateBatchMR(branch=branch):
            opened = getattr(result, "iid", None)
            return f"opened batch merge request {f'!{opened} ' if opened else ''}from {branch}"
        case act.RunPipeline(ref=ref, sha=sha):
            pipeline = getattr(result, "pipeline_id", None)
            return f"pipeline {pipeline or '?'} runs for {_short(sha)} on {ref}"
        case act.RetryPipeline():
            return _retry_text(action, result)
        case act.CancelPipeline(pipeline_id=pipeline, sha=sha):
            return f"cancelled pipeline {pipeline} of {_short(sha)}: its attempt stopped"
        case act.PushTarget(target_branch=branch, sha=sha):
            return f"pushed {branch} to {_short(sha)}{_status(result)}"
        case act.DeleteBranch(branch=branch):
            return f"deleted branch {branch}"
    return None


def _retry_text(action: act.RetryPipeline, result: ActionResult | None) -> str:
    """``retrying pipeline #N of !7 (attempt 2 of 2): it failed; a flake is possible``."""
    text = (
        f"retrying pipeline #{action.pipeline_id} of {action.subject or _short(action.sha)} "
        f"(attempt {action.retry + 1} of {action.retries_allowed + 1}): {action.cause}"
    )
    if getattr(result, "status", None) == "refused":
        return text + f"; GitLab refused: {getattr(result, 'message', '')}"
    return text


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
        "train_car_started": f"train car started with {names} on {_short(details.get('base'))}",
        "train_car_failed": f"train car failed: {names}; the cars behind it are rebuilt",
    }
    message = texts.get(entry.event, f"{entry.event}: {names}")
    return LogLine("info", message, iid, {"event": entry.event, **details}, tuple(entry.iids))
