"""API shapes of the alerts: settings (secrets never returned), incidents, test results."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SmtpSecurity = Literal["none", "starttls", "tls"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"[^@\s,<>]+@[^@\s,<>]+")
MAX_RECIPIENTS = 20
MAX_RECIPIENTS_TEXT = 2048  # the column alert_settings.email_to


class AlertSettings(BaseModel):
    """The instance's alert settings as administrators see them (secrets only as *set*)."""

    email_enabled: bool
    smtp_host: str
    smtp_port: int
    smtp_security: SmtpSecurity
    smtp_username: str
    smtp_password_set: bool = Field(description="A password is stored (it is never shown).")
    email_from: str
    email_to: list[str]
    webhook_enabled: bool
    webhook_url_set: bool = Field(description="A webhook URL is stored (it is never shown).")
    silent_after_seconds: int
    stuck_after_minutes: int
    token_expiry_days: int
    rate_limit_per_hour: int
    evaluate_every_seconds: int
    updated_at: datetime
    updated_by: str | None


class AlertSettingsChange(BaseModel):
    """What an administrator changes; omitted fields stay. A secret sent as ``""`` is removed."""

    model_config = ConfigDict(extra="forbid")

    email_enabled: bool | None = None
    smtp_host: str | None = Field(default=None, max_length=255)
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: SmtpSecurity | None = None
    smtp_username: str | None = Field(default=None, max_length=255)
    smtp_password: str | None = Field(default=None, max_length=1024)
    email_from: str | None = Field(default=None, max_length=320)
    email_to: list[str] | None = Field(default=None, max_length=MAX_RECIPIENTS)
    webhook_enabled: bool | None = None
    webhook_url: str | None = Field(default=None, max_length=2048)
    silent_after_seconds: int | None = Field(default=None, ge=30, le=86_400)
    stuck_after_minutes: int | None = Field(default=None, ge=5, le=10_080)
    token_expiry_days: int | None = Field(default=None, ge=1, le=365)
    rate_limit_per_hour: int | None = Field(default=None, ge=1, le=1000)
    evaluate_every_seconds: int | None = Field(default=None, ge=10, le=3600)

    @field_validator(
        "smtp_host", "smtp_username", "smtp_password", "email_from", "email_to", "webhook_url"
    )
    @classmethod
    def _printable(cls, value: str | list[str] | None) -> str | list[str] | None:
        # PostgreSQL refuses NUL in text, and no header or host holds a control character.
        texts = value if isinstance(value, list) else [value or ""]
        if any(_CONTROL.search(text) for text in texts):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("smtp_host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"[\s/@]", value.strip()):
            raise ValueError("an SMTP host is a name or an address, without spaces, / or @")
        return None if value is None else value.strip()

    @field_validator("email_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value and not _ADDRESS.fullmatch(value.strip()):
            raise ValueError("the sender must be one e-mail address such as alerts@example.com")
        return None if value is None else value.strip()

    @field_validator("email_to")
    @classmethod
    def _recipients(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [address.strip() for address in value if address.strip()]
        for address in cleaned:
            if len(address) > 320 or not _ADDRESS.fullmatch(address):
                raise ValueError(f"{address[:60]!r} is not an e-mail address")
        if len(",".join(cleaned)) > MAX_RECIPIENTS_TEXT:
            raise ValueError(f"the recipients take at most {MAX_RECIPIENTS_TEXT} characters")
        return cleaned

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if not value:
            return value
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The URL itself is not echoed: it is a credential.
            raise ValueError("the webhook URL must be an http:// or https:// address")
        return value.strip()


class AlertDeliveryOut(BaseModel):
    """One notification on one channel."""

    channel: str
    kind: str = Field(description="firing, resolved or test")
    status: str = Field(description="sent, failed or rate_limited")
    error: str | None
    created_at: datetime


class AlertIncidentOut(BaseModel):
    """An incident: a condition that became true, and when it cleared."""

    id: int
    key: str
    rule: str
    subject: str
    message: str
    opened_at: datetime
    resolved_at: datetime | None
    deliveries: list[AlertDeliveryOut]


class RecentAlerts(BaseModel):
    """The newest incidents, open ones included, with their notifications."""

    open: int
    incidents: list[AlertIncidentOut]


class TestAlertResult(BaseModel):
    """What a test alert did on each enabled channel."""

    deliveries: list[AlertDeliveryOut]
