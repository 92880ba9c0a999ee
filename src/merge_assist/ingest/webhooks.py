"""Reading a GitLab webhook delivery (pure: no I/O): its project, kind, object and key."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from merge_assist.kit.errors import BadRequest

# The kinds the merge queue reacts to; others are stored and ignored.
QUEUE_KINDS = frozenset({"merge_request", "pipeline", "note", "push"})
# X-Gitlab-Event header values, for payloads without ``object_kind``.
_HEADER_KINDS = {
    "Merge Request Hook": "merge_request",
    "Pipeline Hook": "pipeline",
    "Note Hook": "note",
    "Push Hook": "push",
    "Tag Push Hook": "tag_push",
    "Job Hook": "build",
}
_KIND = re.compile(r"^[a-z_]{1,32}$")
MAX_KEY_CHARS = 200
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_KEY_CHARS}}}$")


@dataclass(frozen=True)
class WebhookDelivery:
    """What the listener needs from one delivery."""

    gitlab_project_id: int
    kind: str
    object_iid: int | None
    idempotency_key: str

    @property
    def wakes_the_queue(self) -> bool:
        """Whether this kind of event can change a merge queue."""
        return self.kind in QUEUE_KINDS


def idempotency_key(headers: Mapping[str, str], body: bytes) -> str:
    """``Idempotency-Key`` (one per delivery, the same when GitLab sends it again), else a
    hash of the body.

    Never ``X-Gitlab-Event-UUID``: GitLab gives it to every hook one request triggers (a push
    sends a Push Hook and a Merge Request Hook per MR with the same one), so keying on it
    would drop all but the first. Nor ``X-Gitlab-Webhook-UUID``: it is new for every request,
    so a resent delivery would not be recognised (``app/services/web_hook_service.rb``).
    Keys that are too long or unprintable are hashed, so any value fits the column.
    """
    value = (headers.get("idempotency-key") or "").strip()
    if value:
        if _KEY.match(value):
            return value
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return "body:" + hashlib.sha256(body).hexdigest()


def parse_delivery(headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
    """Read a delivery; ``BadRequest`` when it is not a GitLab webhook payload."""
    try:
        payload = json.loads(body)
    except RecursionError as exc:  # thousands of nested brackets
        raise BadRequest("The webhook body is nested too deeply to be a GitLab payload.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The webhook body is not valid JSON.") from exc
    if not isinstance(payload, dict):
        raise BadRequest("The webhook body must be a JSON object.")
    project_id = _project_id(payload)
    if project_id is None:
        raise BadRequest("The webhook payload does not name a project (project.id).")
    kind = _kind(payload, headers.get("x-gitlab-event", ""))
    return WebhookDelivery(
        project_id, kind, _object_iid(kind, payload), idempotency_key(headers, body)
    )


def _project_id(payload: dict[str, Any]) -> int | None:
    project = payload.get("project")
    candidate = project.get("id") if isinstance(project, dict) else None
    if candidate is None:
        candidate = payload.get("project_id")  # push events carry it at the top too
    if isinstance(candidate, int) and not isinstance(candidate, bool) and candidate > 0:
        return candidate
    return None


def _kind(payload: dict[str, Any], header: str) -> str:
    kind = payload.get("object_kind")
    if not isinstance(kind, str) or not kind:
        kind = _HEADER_KINDS.get(header.strip(), "unknown")
    return kind if _KIND.match(kind) else "unknown"


def _object_iid(kind: str, payload: dict[str, Any]) -> int | None:
    """The merge request the event is about, when it is about one."""
    source: Any = None
    if kind == "merge_request":
        source = payload.get("object_attributes")
    elif kind in ("pipeline", "note"):
        source = payload.get("merge_request")
    iid = source.get("iid") if isinstance(source, dict) else None
    if isinstance(iid, int) and not isinstance(iid, bool) and 0 < iid < 2**31:
        return iid
    return None
