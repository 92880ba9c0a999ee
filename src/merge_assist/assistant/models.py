"""The assistant's tables: the instance's AI settings (one row) and each day's AI usage."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime

SETTINGS_ROW_ID = 1


class AssistantSettingsRow(Base):
    """How the AI summary is reached and what may leave (row ``SETTINGS_ROW_ID`` only).

    The API key is not here: it is the secret ``assistant-api-key`` of the secrets provider.
    """

    __tablename__ = "assistant_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    base_url: Mapped[str] = mapped_column(String(1024), server_default="")
    model: Mapped[str] = mapped_column(String(255), server_default="")
    send_titles: Mapped[bool] = mapped_column(Boolean, server_default=false())
    send_file_names: Mapped[bool] = mapped_column(Boolean, server_default=false())
    send_log_excerpts: Mapped[bool] = mapped_column(Boolean, server_default=false())
    timeout_seconds: Mapped[int] = mapped_column(Integer, server_default="20")
    max_request_chars: Mapped[int] = mapped_column(Integer, server_default="8000")
    daily_call_limit: Mapped[int | None] = mapped_column(Integer)
    daily_token_limit: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class AssistantUsageRow(Base):
    """AI calls and tokens of one UTC day (the daily budget counts these)."""

    __tablename__ = "assistant_usage"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, server_default="0")
    tokens: Mapped[int] = mapped_column(Integer, server_default="0")
