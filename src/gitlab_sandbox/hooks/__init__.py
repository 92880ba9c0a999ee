"""Webhooks: GitLab's payload shapes and a delivery queue with retries and faults."""

from gitlab_sandbox.hooks.dispatcher import (
    ALL_EVENTS,
    EVENT_FLAGS,
    DeliveryRecord,
    HookTarget,
    RetryPolicy,
    WebhookDispatcher,
    WebhookFaults,
    request_scope,
)
from gitlab_sandbox.hooks.from_ci import hook_builds, hook_pipeline
from gitlab_sandbox.hooks.health import HookHealth
from gitlab_sandbox.hooks.merge_requests import MERGE_REQUEST_ACTIONS, merge_request_event
from gitlab_sandbox.hooks.models import (
    HookBuild,
    HookCommit,
    HookLabel,
    HookMergeRequest,
    HookNote,
    HookPipeline,
    HookProject,
    HookPush,
    HookUser,
)
from gitlab_sandbox.hooks.payloads import note_event, pipeline_event, push_event

__all__ = [
    "ALL_EVENTS",
    "EVENT_FLAGS",
    "MERGE_REQUEST_ACTIONS",
    "DeliveryRecord",
    "HookBuild",
    "HookCommit",
    "HookHealth",
    "HookLabel",
    "HookMergeRequest",
    "HookNote",
    "HookPipeline",
    "HookProject",
    "HookPush",
    "HookTarget",
    "HookUser",
    "RetryPolicy",
    "WebhookDispatcher",
    "WebhookFaults",
    "hook_builds",
    "hook_pipeline",
    "merge_request_event",
    "note_event",
    "pipeline_event",
    "push_event",
    "request_scope",
]
