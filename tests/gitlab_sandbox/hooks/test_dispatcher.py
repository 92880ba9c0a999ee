"""Webhook delivery against a real HTTP receiver: headers, order, retries and faults.

GitLab's behaviour: ``app/services/web_hook_service.rb`` (headers, one attempt per event from
a Sidekiq job each), ``app/models/concerns/web_hooks/auto_disabling.rb`` (disabling).
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

from gitlab_sandbox.hooks import (
    HookTarget,
    RetryPolicy,
    WebhookDispatcher,
    WebhookFaults,
    request_scope,
)
from tests.gitlab_sandbox.hooks.conftest import Receiver

FAST = RetryPolicy(backoff_seconds=0.01, timeout_seconds=5)
RETRY_TWICE = {"retries": 2}


def dispatcher(**kwargs: object) -> WebhookDispatcher:
    return WebhookDispatcher(instance_url="http://sandbox.test", retry=FAST, **kwargs)  # type: ignore[arg-type]


async def test_delivers_with_gitlab_headers(receiver: Receiver) -> None:
    """``WebHookService#build_headers``: ``X-Gitlab-Webhook-UUID`` is ``SecureRandom.uuid``
    per request, ``X-Gitlab-Event-UUID`` the triggering request's (shared by every hook it
    triggers), ``Idempotency-Key`` one per delivery (``web_hook_service.rb``)."""
    hooks = dispatcher()
    hook, other = HookTarget(receiver.url, token="s3cret", id=7), HookTarget(receiver.url, id=8)
    with request_scope() as request_uuid:
        records = [hooks.enqueue(hook, "Merge Request Hook", {"marker": n}) for n in range(3)]
        hooks.enqueue(other, "Merge Request Hook", {"marker": "other"})
    with request_scope() as next_request:
        hooks.enqueue(hook, "Push Hook", {"marker": "next"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert sorted(receiver.events()) == ["0", "1", "2", "next", "other"]
    by_marker = {str(r.body["marker"]): r.headers for r in receiver.requests}
    headers = by_marker["0"]
    assert headers["content-type"] == "application/json"
    assert headers["x-gitlab-event"] == "Merge Request Hook"
    assert headers["x-gitlab-token"] == "s3cret"
    assert headers["x-gitlab-instance"] == "http://sandbox.test"
    assert headers["user-agent"].startswith("GitLab/17.")
    assert "x-gitlab-token" not in by_marker["other"]
    # Random per request: five requests, five webhook UUIDs.
    assert len({h["x-gitlab-webhook-uuid"] for h in by_marker.values()}) == 5
    # Shared by the hooks of one request, whichever hook they go to.
    first_request = [by_marker[m]["x-gitlab-event-uuid"] for m in ("0", "1", "2", "other")]
    assert set(first_request) == {request_uuid}
    assert by_marker["next"]["x-gitlab-event-uuid"] == next_request != request_uuid
    # One idempotency key per delivery.
    assert len({h["idempotency-key"] for h in by_marker.values()}) == 5
    assert all(r is not None and r.status == "delivered" for r in records)
    assert [r.response_code for r in hooks.deliveries(7)] == [200] * 4


async def test_outside_a_request_each_event_gets_its_own_event_uuid(receiver: Receiver) -> None:
    hooks = dispatcher()
    first = hooks.enqueue(HookTarget(receiver.url), "Push Hook", {"marker": 1})
    second = hooks.enqueue(HookTarget(receiver.url), "Push Hook", {"marker": 2})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert first is not None
    assert second is not None
    assert first.event_uuid != second.event_uuid


async def test_no_token_header_without_a_token_and_unsubscribed_events_are_skipped(
    receiver: Receiver,
) -> None:
    hooks = dispatcher()
    hook = HookTarget(receiver.url, events=frozenset({"pipeline_events"}))
    assert hooks.enqueue(hook, "Note Hook", {"marker": "note"}) is None
    assert hooks.enqueue(hook, "Pipeline Hook", {"marker": "pipe"}) is not None
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert receiver.events() == ["pipe"]
    assert "x-gitlab-token" not in receiver.requests[0].headers


async def test_one_attempt_per_event_by_default(receiver: Receiver) -> None:
    """GitLab sends once: ``WebHookService#execute`` has no retry, a failure is only logged
    (``web_hook_service.rb``); the hook's failure count goes up instead."""
    receiver.statuses.extend([500, 503])
    hooks = dispatcher()
    first = hooks.enqueue(HookTarget(receiver.url, id=1), "Push Hook", {"marker": "a"})
    await asyncio.wait_for(hooks.drain(), 30)
    second = hooks.enqueue(HookTarget(receiver.url, id=1), "Push Hook", {"marker": "b"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert first is not None
    assert second is not None
    assert (first.status, first.attempts, first.response_code) == ("failed", 1, 500)
    assert (second.status, second.attempts, second.response_code) == ("failed", 1, 503)
    assert receiver.events() == ["a", "b"]


async def test_retries_fault_resends_with_the_same_idempotency_key(receiver: Receiver) -> None:
    receiver.statuses.extend([500, 503])
    hooks = dispatcher(faults=WebhookFaults(**RETRY_TWICE))
    record = hooks.enqueue(HookTarget(receiver.url), "Push Hook", {"marker": "push"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert record is not None
    assert (record.status, record.attempts, record.response_code) == ("delivered", 3, 200)
    keys = {r.headers["idempotency-key"] for r in receiver.requests}
    uuids = {r.headers["x-gitlab-event-uuid"] for r in receiver.requests}
    request_uuids = {r.headers["x-gitlab-webhook-uuid"] for r in receiver.requests}
    assert len(receiver.requests) == 3
    assert keys == {record.idempotency_key}
    assert uuids == {record.event_uuid}
    assert len(request_uuids) == 3


async def test_gives_up_after_bounded_attempts_and_on_4xx(receiver: Receiver) -> None:
    receiver.statuses.extend([500, 500, 500, 404])
    hooks = dispatcher(faults=WebhookFaults(retries=2, ordered=True))
    hook = HookTarget(receiver.url)
    exhausted = hooks.enqueue(hook, "Push Hook", {"marker": "a"})
    refused = hooks.enqueue(hook, "Push Hook", {"marker": "b"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert exhausted is not None
    assert refused is not None
    assert (exhausted.status, exhausted.attempts) == ("failed", 3)
    assert (refused.status, refused.attempts, refused.response_code) == ("failed", 1, 404)
    assert hooks.stats()["failed"] == 2


async def test_connection_errors_are_retried_then_fail() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nothing listens there
    hooks = dispatcher(faults=WebhookFaults(**RETRY_TWICE))
    record = hooks.enqueue(HookTarget(f"http://127.0.0.1:{port}/"), "Push Hook", {"marker": 1})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert record is not None
    assert (record.status, record.attempts) == ("failed", 3)
    assert record.error is not None
    assert "Connect" in record.error


async def test_drop_and_duplicate_faults_are_seeded(receiver: Receiver) -> None:
    outcomes = []
    for _ in range(2):
        hooks = dispatcher(
            seed=11, faults=WebhookFaults(drop_rate=0.3, duplicate_rate=0.3, ordered=True)
        )
        hook = HookTarget(receiver.url)
        records = [hooks.enqueue(hook, "Note Hook", {"marker": n}) for n in range(40)]
        await asyncio.wait_for(hooks.drain(), 30)
        await hooks.aclose()
        outcomes.append([(r.status, r.duplicated) for r in records if r is not None])
    assert outcomes[0] == outcomes[1]
    dropped = sum(status == "dropped" for status, _ in outcomes[0])
    duplicated = sum(dup for status, dup in outcomes[0] if status != "dropped")
    assert 0 < dropped < 40
    assert duplicated > 0
    per_run = len(receiver.requests) // 2
    assert per_run == (40 - dropped) + duplicated
    # A duplicate carries the same idempotency key twice, so receivers can deduplicate.
    keys = [r.headers["idempotency-key"] for r in receiver.requests[:per_run]]
    assert len(set(keys)) == 40 - dropped


async def test_reorder_delivers_a_held_event_after_the_next_one(receiver: Receiver) -> None:
    hooks = dispatcher(
        seed=3, faults=WebhookFaults(reorder_rate=1.0, reorder_hold_seconds=0.2, ordered=True)
    )
    hook = HookTarget(receiver.url)
    for n in range(4):
        hooks.enqueue(hook, "Merge Request Hook", {"marker": n})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    # Every event asks to be held; a held event goes out right after its successor.
    assert receiver.events() == ["1", "0", "3", "2"]
    assert all(record.reordered for record in hooks.deliveries())


async def test_a_lone_held_event_still_goes_out(receiver: Receiver) -> None:
    hooks = dispatcher(faults=WebhookFaults(reorder_rate=1.0, reorder_hold_seconds=0.05))
    hooks.enqueue(HookTarget(receiver.url), "Push Hook", {"marker": "late"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert receiver.events() == ["late"]


async def test_ordered_fault_delivers_in_order(receiver: Receiver) -> None:
    hooks = dispatcher(faults=WebhookFaults(ordered=True))
    hook = HookTarget(receiver.url)
    for n in range(5):
        hooks.enqueue(hook, "Merge Request Hook", {"marker": n})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert receiver.events() == ["0", "1", "2", "3", "4"]


async def test_hooks_have_independent_queues(receiver: Receiver) -> None:
    receiver.statuses.extend([500])
    hooks = dispatcher(faults=WebhookFaults(retries=1, ordered=True))
    first, second = HookTarget(receiver.url, id=1), HookTarget(receiver.url + "?b", id=2)
    hooks.enqueue(first, "Push Hook", {"marker": "first"})
    hooks.enqueue(second, "Push Hook", {"marker": "second"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    # The one 500 goes to whichever hook's request reaches the receiver first (the queues run
    # side by side); that hook retries, the other is not held up by it.
    counts = Counter(receiver.events())
    assert sorted(counts.items()) in (
        [("first", 2), ("second", 1)],
        [("first", 1), ("second", 2)],
    )
    assert [r.hook_id for r in hooks.deliveries(1)] == [1]
    assert [r.hook_id for r in hooks.deliveries(2)] == [2]
    assert all(r.as_dict()["status"] == "delivered" for r in hooks.deliveries())
