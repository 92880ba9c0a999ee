"""The alert evaluator: one pass reads a snapshot, applies the rules, opens and resolves
incidents, and notifies the channels.

It runs in the watcher (``alerts_duty``, plugged in by the composition root). With several
watchers only one runs each pass: a pass starts only by moving ``alert_settings.
next_evaluation_at`` forward in one compare-and-swap update, which exactly one process wins.
A pass is three short units of work (read; incidents with their audit entries; deliveries);
GitLab and the channels are reached between them, never inside a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.health.alerts import repository, rules, service
from merge_assist.health.alerts.channels import ChannelFailed, send_email, send_webhook
from merge_assist.health.alerts.incidents import (
    DeliveryStatus,
    Notice,
    NoticeKind,
    Planned,
    plan_deliveries,
    transitions,
)
from merge_assist.health.alerts.models import AlertDelivery, AlertIncident, AlertSettingsRow
from merge_assist.health.alerts.snapshot import probe_gitlab, read_database
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.errors import MergeAssistError, Unprocessable
from merge_assist.kit.metrics import ALERT_NOTIFICATIONS
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(hours=1)
Send = Callable[[Notice, str], Awaitable[None]]


@dataclass(frozen=True)
class Delivered:
    """What became of one notice on one channel."""

    channel: str
    notice: Notice
    status: DeliveryStatus
    error: str | None = None


@dataclass(frozen=True)
class PassOutcome:
    """The incidents a pass opened and resolved (their keys) and the notices it delivered."""

    opened: tuple[str, ...]
    resolved: tuple[str, ...]
    deliveries: tuple[Delivered, ...]


def senders(row: AlertSettingsRow, settings: Settings) -> dict[str, Send]:
    """The channels turned on, by name (``email``, ``webhook``)."""
    found: dict[str, Send] = {}
    email = service.email_channel(row, settings)
    if email is not None:
        found["email"] = partial(send_email, email)
    webhook = service.webhook_channel(row, settings)
    if webhook is not None:
        found["webhook"] = partial(send_webhook, webhook)
    return found


def health_url(settings: Settings) -> str:
    return settings.effective_public_url.rstrip("/") + "/health"


async def deliver(
    channels: Mapping[str, Send],
    notices: Sequence[Notice],
    sent_last_hour: Mapping[str, int],
    per_hour: int,
    link: str,
) -> list[Delivered]:
    """Send each notice on each channel within the channel's hourly budget."""
    outcomes = []
    planned: list[Planned] = plan_deliveries(notices, sorted(channels), sent_last_hour, per_hour)
    for item in planned:
        if not item.allowed:
            outcome = Delivered(item.channel, item.notice, DeliveryStatus.rate_limited)
        else:
            try:
                await channels[item.channel](item.notice, link)
                outcome = Delivered(item.channel, item.notice, DeliveryStatus.sent)
            except ChannelFailed as exc:
                log.warning("an alert was not delivered", extra={"channel": item.channel})
                outcome = Delivered(item.channel, item.notice, DeliveryStatus.failed, str(exc))
        ALERT_NOTIFICATIONS.labels(item.channel, item.notice.kind.value, outcome.status).inc()
        outcomes.append(outcome)
    return outcomes


def delivery_rows(outcomes: Sequence[Delivered], now: datetime) -> list[AlertDelivery]:
    return [
        AlertDelivery(
            incident_id=item.notice.incident_id,
            channel=item.channel,
            kind=item.notice.kind.value,
            status=item.status.value,
            error=None if item.error is None else item.error[:1024],
            created_at=now,
        )
        for item in outcomes
    ]


async def alerts_duty(res: AppResources, now: datetime) -> PassOutcome | None:
    """The watcher's duty: run a pass if one is due and this process wins the claim."""
    async with unit_of_work(res.sessions) as session:
        row = await repository.settings_row(session)
        if row.next_evaluation_at is not None and row.next_evaluation_at > now:
            return None
        until = now + timedelta(seconds=row.evaluate_every_seconds)
        claimed = await repository.claim_evaluation(session, row.next_evaluation_at, until)
    if not claimed:
        return None
    return await evaluate_once(res, now)


async def evaluate_once(res: AppResources, now: datetime) -> PassOutcome:
    """One pass of the rules, as of ``now``."""
    async with unit_of_work(res.sessions) as session:
        limits = service.thresholds(await repository.settings_row(session), res.settings)
        view = await read_database(session, now, limits)
    probe, hooks = await probe_gitlab(res, view.hooks)
    conditions = rules.evaluate(replace(view.snapshot, gitlab=probe, webhooks=hooks), limits)
    async with unit_of_work(res.sessions) as session:
        opened, resolved, notices = await _apply(session, conditions, now)
        row = await repository.settings_row(session)
        channels = _channels_or_none(row, res.settings)
        sent = await repository.sent_since(session, now - RATE_WINDOW)
        per_hour = row.rate_limit_per_hour
    outcomes = await deliver(channels, notices, sent, per_hour, health_url(res.settings))
    if outcomes:
        async with unit_of_work(res.sessions) as session:
            session.add_all(delivery_rows(outcomes, now))
    return PassOutcome(tuple(opened), tuple(resolved), tuple(outcomes))


def _channels_or_none(row: AlertSettingsRow, settings: Settings) -> dict[str, Send]:
    """The channels; none when their secrets no longer open (the incidents still show)."""
    try:
        return senders(row, settings)
    except MergeAssistError as exc:
        log.warning("alert channels unusable: %s", exc.message)
        return {}


async def _apply(
    session: AsyncSession, conditions: Mapping[str, rules.Condition], now: datetime
) -> tuple[list[str], list[str], list[Notice]]:
    """Open and resolve incidents, each with its audit entry; the notices to send."""
    open_rows = {row.key: row for row in await repository.open_incidents(session)}
    change = transitions({key: row.id for key, row in open_rows.items()}, conditions)
    notices: list[Notice] = []
    for condition in change.opening:
        incident = AlertIncident(
            key=condition.key,
            rule=condition.rule,
            subject=condition.subject[:512],
            message=condition.message,
            opened_at=now,
        )
        session.add(incident)
        await session.flush()
        await _audit(session, "alert.fired", incident)
        notices.append(Notice(NoticeKind.firing, incident.subject, incident.message, incident.id))
    by_id = {row.id: row for row in open_rows.values()}
    for incident_id in change.resolving:
        incident = by_id[incident_id]
        incident.resolved_at = now
        await _audit(session, "alert.resolved", incident)
        notices.append(
            Notice(
                NoticeKind.resolved,
                incident.subject,
                f"Resolved: {incident.message}",
                incident.id,
            )
        )
    await session.flush()
    return (
        [c.key for c in change.opening],
        [by_id[i].key for i in change.resolving],
        notices,
    )


async def _audit(session: AsyncSession, action: str, incident: AlertIncident) -> None:
    await audit.record(
        session,
        actor_id=None,
        actor_name="system",
        action=action,
        success=True,
        target_type="alert_incident",
        target_id=incident.id,
        details={"rule": incident.rule, "key": incident.key, "subject": incident.subject},
    )


async def send_test_alert(
    session: AsyncSession, settings: Settings, *, actor_id: int, actor_name: str, now: datetime
) -> list[Delivered]:
    """Send a test notice on every channel turned on (within the hourly budget), audited."""
    row = await repository.settings_row(session)
    channels = senders(row, settings)
    if not channels:
        raise Unprocessable(
            "No alert channel is turned on: turn on e-mail or the webhook and save, then send a "
            "test alert."
        )
    notice = Notice(
        NoticeKind.test,
        "Test alert",
        f"{actor_name} sent this test alert from Merge Assist: alerts reach this channel.",
    )
    sent = await repository.sent_since(session, now - RATE_WINDOW)
    outcomes = await deliver(
        channels, [notice], sent, row.rate_limit_per_hour, health_url(settings)
    )
    session.add_all(delivery_rows(outcomes, now))
    await audit.record(
        session,
        actor_id=actor_id,
        actor_name=actor_name,
        action="alert.test",
        success=all(item.status is DeliveryStatus.sent for item in outcomes),
        target_type="alert_settings",
        target_id=row.id,
        details={"deliveries": {item.channel: item.status.value for item in outcomes}},
    )
    return outcomes
