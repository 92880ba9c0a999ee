"""Tables of the alerts: the instance's settings, the incidents, and every notification sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class AlertSettingsRow(Base):
    """The one row (id 1) of the instance's alert settings, set by administrators.

    Secrets (the SMTP password and the webhook URL, which carries its own credential) are
    envelopes of ``kit.crypto`` (purpose ``alert-channels``), never returned by the API.
    ``next_evaluation_at`` is the evaluator's claim: a watcher runs a pass only if it moves it
    forward in one atomic update, so with several watchers one pass runs per interval.
    """

    __tablename__ = "alert_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    smtp_host: Mapped[str] = mapped_column(String(255), default="")
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_security: Mapped[str] = mapped_column(String(16), default="starttls")
    smtp_username: Mapped[str] = mapped_column(String(255), default="")
    smtp_password_encrypted: Mapped[str | None] = mapped_column(Text)
    email_from: Mapped[str] = mapped_column(String(320), default="")
    email_to: Mapped[str] = mapped_column(String(2048), default="")
    webhook_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url_encrypted: Mapped[str | None] = mapped_column(Text)
    silent_after_seconds: Mapped[int] = mapped_column(Integer, default=180)
    stuck_after_minutes: Mapped[int] = mapped_column(Integer, default=120)
    token_expiry_days: Mapped[int] = mapped_column(Integer, default=14)
    rate_limit_per_hour: Mapped[int] = mapped_column(Integer, default=20)
    evaluate_every_seconds: Mapped[int] = mapped_column(Integer, default=60)
    next_evaluation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class AlertIncident(Base):
    """A condition that became true (``opened_at``) and, once it cleared, ``resolved_at``.

    ``key`` names the condition (``process_silent:<worker id>``, ``mr_stuck:<project>:<iid>``):
    while an incident of a key is open, the same condition adds nothing (deduplication).
    """

    __tablename__ = "alert_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(512))
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertDelivery(Base):
    """One notification on one channel: of an incident firing or resolved, or a test alert."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_incidents.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
