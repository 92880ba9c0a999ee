"""A hook's auto-disabling, as ``app/models/concerns/web_hooks/auto_disabling.rb`` (GitLab 17.x/
18.x) and ``app/services/web_hooks/log_execution_service.rb`` (a 2xx/3xx answer enables, any
other outcome backs off) define it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gitlab_sandbox.hooks import HookHealth, HookTarget, RetryPolicy, WebhookDispatcher
from tests.gitlab_sandbox.hooks.conftest import Receiver

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_three_failures_are_tolerated_the_fourth_disables_for_a_minute() -> None:
    health = HookHealth()
    for _ in range(3):
        health.backoff(T0)
    assert (health.recent_failures, health.disabled_until) == (3, None)
    assert health.alert_status(T0) == "executable"
    health.backoff(T0)
    assert health.recent_failures == 4
    assert health.disabled_until == T0 + timedelta(minutes=1)
    assert health.alert_status(T0) == "temporarily_disabled"
    assert not health.executable(T0 + timedelta(seconds=59))
    # Failures while disabled are not counted (``backoff!`` returns unless executable).
    health.backoff(T0 + timedelta(seconds=30))
    assert health.recent_failures == 4
    later = T0 + timedelta(minutes=1, seconds=1)
    assert health.executable(later)


def test_backoff_doubles_up_to_a_day_and_the_40th_failure_disables_for_good() -> None:
    health, now, windows = HookHealth(), T0, []
    for _ in range(40):
        health.backoff(now)
        if health.disabled_until is not None:
            windows.append(health.disabled_until - now)
            now = health.disabled_until + timedelta(seconds=1)
    assert windows[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(windows) == timedelta(days=1)
    assert health.recent_failures == 40
    assert health.permanently_disabled
    assert health.alert_status(now + timedelta(days=30)) == "disabled"
    assert not health.executable(now + timedelta(days=30))


def test_a_success_enables_the_hook_again() -> None:
    health = HookHealth(recent_failures=5, disabled_until=T0 + timedelta(minutes=2))
    health.enable()
    assert (health.recent_failures, health.disabled_until) == (0, None)
    assert health.alert_status(T0) == "executable"


async def test_dispatcher_stops_sending_to_a_hook_after_four_failures(receiver: Receiver) -> None:
    receiver.statuses.extend([500, 502, 404, 500])
    hooks = WebhookDispatcher(instance_url="http://sandbox.test", retry=RetryPolicy())
    hook = HookTarget(receiver.url, id=3, health=HookHealth())
    for n in range(4):
        hooks.enqueue(hook, "Push Hook", {"marker": n})
        await asyncio.wait_for(hooks.drain(), 30)
    assert hook.health is not None
    assert hook.health.recent_failures == 4
    skipped = hooks.enqueue(hook, "Push Hook", {"marker": "lost"})
    await asyncio.wait_for(hooks.drain(), 30)
    await hooks.aclose()
    assert skipped is not None
    assert skipped.status == "disabled"
    assert receiver.events() == ["0", "1", "2", "3"]
