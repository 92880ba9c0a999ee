"""The channels alerts go out on: email (SMTP) and Slack-compatible incoming webhooks.

Both raise :class:`ChannelFailed` with a sentence that never contains the SMTP password or the
webhook URL (the URL is a credential: whoever has it may post).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from merge_assist.health.alerts.incidents import Notice, NoticeKind

TIMEOUT_SECONDS = 10.0
HEADLINE = {
    NoticeKind.firing: "FIRING",
    NoticeKind.resolved: "RESOLVED",
    NoticeKind.test: "TEST",
}


class ChannelFailed(Exception):
    """A notification could not be delivered; the message says why, without secrets."""


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str
    password: str | None
    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class WebhookChannel:
    url: str


def headline(notice: Notice) -> str:
    """``[Merge Assist] FIRING: <subject>``."""
    return f"[Merge Assist] {HEADLINE[notice.kind]}: {notice.subject}"


def body(notice: Notice, health_url: str) -> str:
    """The text of a notice, with where to look."""
    return f"{notice.message}\n\nHealth page: {health_url}\n"


def _send_mail(channel: EmailChannel, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if channel.security == "tls":
        smtp = smtplib.SMTP_SSL(
            channel.host, channel.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(channel.host, channel.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if channel.security == "starttls":
            smtp.starttls(context=context)
        if channel.username and channel.password:
            smtp.login(channel.username, channel.password)
        smtp.send_message(message)


async def send_email(channel: EmailChannel, notice: Notice, health_url: str) -> None:
    """Send ``notice`` to every recipient in one message."""
    message = EmailMessage()
    message["Subject"] = headline(notice)
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.recipients)
    message.set_content(body(notice, health_url))
    try:
        await asyncio.to_thread(_send_mail, channel, message)
    except smtplib.SMTPAuthenticationError as exc:
        raise ChannelFailed(f"The SMTP server refused the login ({exc.smtp_code}).") from exc
    except smtplib.SMTPException as exc:
        raise ChannelFailed(f"The SMTP server refused the message: {type(exc).__name__}.") from exc
    except (OSError, ssl.SSLError) as exc:
        raise ChannelFailed(
            f"Cannot reach the SMTP server {channel.host}:{channel.port}: "
            f"{exc.strerror or type(exc).__name__}."
        ) from exc


async def send_webhook(channel: WebhookChannel, notice: Notice, health_url: str) -> None:
    """POST ``{"text": ...}`` (Slack, Mattermost, Rocket.Chat, Teams workflows accept it)."""
    text = f"*{headline(notice)}*\n{body(notice, health_url)}"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            answer = await client.post(channel.url, json={"text": text})
    except httpx.HTTPError as exc:
        raise ChannelFailed(f"Cannot reach the webhook: {type(exc).__name__}.") from exc
    if answer.status_code >= 300:
        raise ChannelFailed(f"The webhook answered HTTP {answer.status_code}.")
