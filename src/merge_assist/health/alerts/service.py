"""The alert settings (secrets sealed at rest), the channels they make, and the recent alerts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.health.alerts import repository
from merge_assist.health.alerts.channels import EmailChannel, WebhookChannel
from merge_assist.health.alerts.models import AlertDelivery, AlertSettingsRow
from merge_assist.health.alerts.rules import Thresholds
from merge_assist.health.alerts.schemas import (
    AlertDeliveryOut,
    AlertIncidentOut,
    AlertSettings,
    AlertSettingsChange,
    RecentAlerts,
)
from merge_assist.kit.clock import utcnow
from merge_assist.kit.crypto import DecryptionError, Keyring, server_keyring
from merge_assist.kit.errors import Unprocessable
from merge_assist.kit.settings import Settings

CHANNELS_PURPOSE = "alert-channels"
_SMTP_PASSWORD = b"alert-settings:smtp-password"
_WEBHOOK_URL = b"alert-settings:webhook-url"
RECENT = 50
_PLAIN_FIELDS = (
    "email_enabled",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "email_from",
    "webhook_enabled",
    "silent_after_seconds",
    "stuck_after_minutes",
    "token_expiry_days",
    "rate_limit_per_hour",
    "evaluate_every_seconds",
)


def _keyring(settings: Settings) -> Keyring:
    return server_keyring(settings, purpose=CHANNELS_PURPOSE)


def _open(settings: Settings, envelope: str, associated_data: bytes, what: str) -> str:
    try:
        return _keyring(settings).decrypt(envelope, associated_data=associated_data).decode()
    except DecryptionError as exc:
        raise Unprocessable(
            f"The stored {what} cannot be decrypted (the key it was sealed with is no longer "
            "configured): enter it again in the alert settings."
        ) from exc


def recipients(row: AlertSettingsRow) -> list[str]:
    return [address for address in row.email_to.split(",") if address]


def settings_view(row: AlertSettingsRow) -> AlertSettings:
    """The settings as the API shows them: secrets only as whether they are set."""
    return AlertSettings(
        email_enabled=row.email_enabled,
        smtp_host=row.smtp_host,
        smtp_port=row.smtp_port,
        smtp_security=row.smtp_security,
        smtp_username=row.smtp_username,
        smtp_password_set=bool(row.smtp_password_encrypted),
        email_from=row.email_from,
        email_to=recipients(row),
        webhook_enabled=row.webhook_enabled,
        webhook_url_set=bool(row.webhook_url_encrypted),
        silent_after_seconds=row.silent_after_seconds,
        stuck_after_minutes=row.stuck_after_minutes,
        token_expiry_days=row.token_expiry_days,
        rate_limit_per_hour=row.rate_limit_per_hour,
        evaluate_every_seconds=row.evaluate_every_seconds,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def current_settings(session: AsyncSession) -> AlertSettingsRow:
    """The settings row (made with the defaults on first use)."""
    return await repository.settings_row(session)


async def change_settings(
    session: AsyncSession,
    settings: Settings,
    change: AlertSettingsChange,
    *,
    actor_id: int,
    actor_name: str,
) -> AlertSettingsRow:
    """Apply ``change`` (audited with the names of the fields changed, never their values)."""
    row = await repository.settings_row(session)
    changed = [name for name in _PLAIN_FIELDS if getattr(change, name) is not None]
    for name in changed:
        setattr(row, name, getattr(change, name))
    if change.email_to is not None:
        row.email_to = ",".join(change.email_to)
        changed.append("email_to")
    keyring = _keyring(settings)
    if change.smtp_password is not None:
        row.smtp_password_encrypted = (
            keyring.encrypt(change.smtp_password.encode(), associated_data=_SMTP_PASSWORD)
            if change.smtp_password
            else None
        )
        changed.append("smtp_password")
    if change.webhook_url is not None:
        row.webhook_url_encrypted = (
            keyring.encrypt(change.webhook_url.encode(), associated_data=_WEBHOOK_URL)
            if change.webhook_url
            else None
        )
        changed.append("webhook_url")
    _check_complete(row)
    row.updated_at = utcnow()
    row.updated_by = actor_name
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        actor_name=actor_name,
        action="alert.settings.update",
        success=True,
        target_type="alert_settings",
        target_id=row.id,
        details={"fields": sorted(changed)},
    )
    return row


def _check_complete(row: AlertSettingsRow) -> None:
    if row.email_enabled and not (row.smtp_host and row.email_from and row.email_to):
        raise Unprocessable(
            "E-mail alerts need an SMTP host, a sender and at least one recipient; "
            "fill them in or leave e-mail turned off."
        )
    if row.webhook_enabled and not row.webhook_url_encrypted:
        raise Unprocessable(
            "Webhook alerts need the incoming webhook's URL; enter it or leave them turned off."
        )


def thresholds(row: AlertSettingsRow, settings: Settings) -> Thresholds:
    return Thresholds(
        silent_after_seconds=row.silent_after_seconds,
        stuck_after_minutes=row.stuck_after_minutes,
        token_expiry_days=row.token_expiry_days,
        # A rolling restart hands leases over within seconds; only a lease left lapsed as
        # long as a process must be silent to alert (or two lease periods) means nobody runs it.
        lease_grace_seconds=max(row.silent_after_seconds, 2 * settings.lease_seconds),
    )


def email_channel(row: AlertSettingsRow, settings: Settings) -> EmailChannel | None:
    """The e-mail channel when turned on (its password decrypted)."""
    if not row.email_enabled:
        return None
    password = None
    if row.smtp_password_encrypted:
        password = _open(settings, row.smtp_password_encrypted, _SMTP_PASSWORD, "SMTP password")
    return EmailChannel(
        host=row.smtp_host,
        port=row.smtp_port,
        security=row.smtp_security,
        username=row.smtp_username,
        password=password,
        sender=row.email_from,
        recipients=tuple(recipients(row)),
    )


def webhook_channel(row: AlertSettingsRow, settings: Settings) -> WebhookChannel | None:
    """The webhook channel when turned on (its URL decrypted)."""
    if not row.webhook_enabled or not row.webhook_url_encrypted:
        return None
    return WebhookChannel(
        url=_open(settings, row.webhook_url_encrypted, _WEBHOOK_URL, "webhook URL")
    )


def delivery_view(row: AlertDelivery) -> AlertDeliveryOut:
    return AlertDeliveryOut(
        channel=row.channel,
        kind=row.kind,
        status=row.status,
        error=row.error,
        created_at=row.created_at,
    )


async def recent_alerts(session: AsyncSession, limit: int = RECENT) -> RecentAlerts:
    """The newest incidents with their notifications, and how many are open."""
    incidents = await repository.recent_incidents(session, limit)
    by_incident: dict[int, list[AlertDeliveryOut]] = {}
    for delivery in await repository.deliveries_of(session, [row.id for row in incidents]):
        if delivery.incident_id is not None:
            by_incident.setdefault(delivery.incident_id, []).append(delivery_view(delivery))
    return RecentAlerts(
        open=await repository.count_open(session),
        incidents=[
            AlertIncidentOut(
                id=row.id,
                key=row.key,
                rule=row.rule,
                subject=row.subject,
                message=row.message,
                opened_at=row.opened_at,
                resolved_at=row.resolved_at,
                deliveries=by_incident.get(row.id, []),
            )
            for row in incidents
        ],
    )


def deliveries_view(rows: Sequence[AlertDelivery]) -> list[AlertDeliveryOut]:
    return [delivery_view(row) for row in rows]
