"""The alert rules and the dedup/rate-limit plan, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.gitlab.models import Hook
from merge_assist.health.alerts.incidents import Notice, NoticeKind, plan_deliveries, transitions
from merge_assist.health.alerts.rules import (
    Condition,
    GitLabProbe,
    GitLabReach,
    HookState,
    LeaseSeen,
    ProcessSeen,
    QueuedMergeRequest,
    Snapshot,
    Thresholds,
    UserToken,
    WebhookSeen,
    evaluate,
)
from merge_assist.health.alerts.snapshot import hook_state

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LIMITS = Thresholds(
    silent_after_seconds=120, stuck_after_minutes=60, token_expiry_days=7, lease_grace_seconds=60
)


def at(seconds_ago: float) -> datetime:
    return NOW - timedelta(seconds=seconds_ago)


def test_a_nothing_wrong_snapshot_has_no_condition() -> None:
    healthy = Snapshot(
        now=NOW,
        processes=(ProcessSeen("w1", "worker", "h", at(10), None),),
        leases=(LeaseSeen(1, "acme/app", "w1", NOW + timedelta(seconds=30)),),
        queued=(QueuedMergeRequest(1, "acme/app", 7, "main", "waiting", at(59 * 60)),),
        gitlab=GitLabProbe(GitLabReach.ok, bot_token_expires_on=date(2027, 6, 1)),
        webhooks=(WebhookSeen(1, "acme/app", HookState.ok),),
        user_tokens=(UserToken(3, "alice", NOW + timedelta(days=30)),),
    )
    assert evaluate(healthy, LIMITS) == {}


def test_each_rule_names_its_incident() -> None:
    broken = Snapshot(
        now=NOW,
        processes=(
            ProcessSeen("w1", "worker", "h1", at(121), None),  # silent
            ProcessSeen("w2", "worker", "h2", at(500), at(500)),  # stopped gracefully
            ProcessSeen("w3", "watcher", "h3", at(2 * 86400), None),  # long gone: forgotten
        ),
        leases=(
            LeaseSeen(1, "acme/app", "w1", at(61)),
            LeaseSeen(2, "acme/lib", "w1", at(30)),  # within the grace
        ),
        queued=(QueuedMergeRequest(1, "acme/app", 7, "main", "not_ready", at(60 * 60)),),
        gitlab=GitLabProbe(GitLabReach.ok, bot_token_expires_on=date(2026, 12, 13)),
        webhooks=(
            WebhookSeen(1, "acme/app", HookState.disabled),
            WebhookSeen(2, "acme/lib", HookState.missing),
        ),
        user_tokens=(UserToken(3, "alice", NOW + timedelta(days=2)),),
    )
    found = evaluate(broken, LIMITS)
    assert sorted(found) == [
        "bot_token_expiry",
        "lease_lapsed:1",
        "mr_stuck:1:7",
        "process_silent:w1",
        "user_token_expiry:3",
        "webhook:1",
        "webhook:2",
    ]
    assert found["webhook:1"].rule == "webhook_disabled"
    assert "!7 of acme/app" in found["mr_stuck:1:7"].subject
    assert "2026-12-13" in found["bot_token_expiry"].subject
    assert "alice" in found["user_token_expiry:3"].message


def test_gitlab_unreachable_and_refused_are_different_incidents() -> None:
    down = evaluate(Snapshot(NOW, gitlab=GitLabProbe(GitLabReach.unreachable, "timed out")), LIMITS)
    refused = evaluate(Snapshot(NOW, gitlab=GitLabProbe(GitLabReach.refused)), LIMITS)
    unset = evaluate(Snapshot(NOW, gitlab=GitLabProbe(GitLabReach.not_configured)), LIMITS)
    assert list(down) == ["gitlab_unreachable"]
    assert "timed out" in down["gitlab_unreachable"].message
    assert list(refused) == ["gitlab_token_refused"]
    assert unset == {}


def test_webhook_states_come_from_gitlabs_alert_status() -> None:
    def hook(status: str | None) -> Hook:
        return Hook.model_validate({"id": 1, "url": "http://x", "alert_status": status})

    assert hook_state(None) is HookState.missing
    assert hook_state(hook("executable")) is HookState.ok
    assert hook_state(hook(None)) is HookState.ok  # GitLab before 15.7 does not say
    assert hook_state(hook("temporarily_disabled")) is HookState.failing
    assert hook_state(hook("disabled")) is HookState.disabled


def condition(key: str) -> Condition:
    return Condition(key, "rule", key, key)


keys = st.sets(st.sampled_from([f"k{i}" for i in range(8)]))


@given(open_keys=keys, true_keys=keys)
def test_transitions_open_what_is_new_and_resolve_what_cleared(
    open_keys: set[str], true_keys: set[str]
) -> None:
    open_by_key = {key: index for index, key in enumerate(sorted(open_keys))}
    change = transitions(open_by_key, {key: condition(key) for key in true_keys})
    assert {c.key for c in change.opening} == true_keys - open_keys
    assert set(change.resolving) == {open_by_key[key] for key in open_keys - true_keys}
    # Applying the change, the next pass over the same conditions changes nothing.
    after = {key: 100 + i for i, key in enumerate(sorted(true_keys))}
    again = transitions(after, {key: condition(key) for key in true_keys})
    assert again.opening == ()
    assert again.resolving == ()


@given(
    count=st.integers(0, 12),
    used=st.integers(0, 5),
    per_hour=st.integers(1, 6),
)
def test_no_channel_sends_more_than_its_hourly_budget(count: int, used: int, per_hour: int) -> None:
    notices = [Notice(NoticeKind.firing, f"s{i}", "m", i) for i in range(count)]
    plan = plan_deliveries(notices, ["email", "webhook"], {"email": used}, per_hour)
    assert len(plan) == 2 * count
    allowed_email = sum(p.allowed for p in plan if p.channel == "email")
    allowed_webhook = sum(p.allowed for p in plan if p.channel == "webhook")
    assert allowed_email == min(count, max(per_hour - used, 0))
    assert allowed_webhook == min(count, per_hour)
