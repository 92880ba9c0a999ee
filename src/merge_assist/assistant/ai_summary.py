"""The optional AI summary of an explanation: gated, budgeted, redacted, audited, advisory.

Nothing is sent unless an admin enabled the AI (``ai_settings``) and the MR's project opted
in (``ai_debug_enabled``). A call is counted against the day's budget before it is made (in
its own short transaction), and its outcome is audited after (who, which MR, model, request
size, tokens, outcome; never the content or the key). Any failure gives an ``AiSummary``
without text and with a short note: the plain diagnosis stands on its own. It never changes
the queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.assistant import repository
from merge_assist.assistant.ai_service import load_settings, today
from merge_assist.assistant.ai_settings import API_KEY_SECRET, AiSettings
from merge_assist.assistant.chat import ChatFailure, ChatReply, ChatRequest, complete
from merge_assist.assistant.prompt import build_messages
from merge_assist.assistant.schemas import AiOutcome, AiSummary, Explanation
from merge_assist.audit import service as audit
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.errors import MergeAssistError
from merge_assist.secrets.providers import SecretProvider

log = logging.getLogger(__name__)

AUDIT_ACTION = "assistant.ai.summary"
NOT_SET_UP = "No AI summary: an admin has not set one up."
NOT_OPTED_IN = "No AI summary: this project has not opted in (project settings, AI assistant)."
BUDGET_USED = "No AI summary: today's AI budget is used up (it resets at midnight UTC)."


@dataclass(frozen=True)
class AiCaller:
    """Who asks (for the audit), where to count and audit, and the secrets holding the key."""

    actor_id: int | None
    actor_name: str
    sessions: async_sessionmaker[AsyncSession]
    secrets: Callable[[], SecretProvider]


async def summarise(
    session: AsyncSession, caller: AiCaller, found: Explanation, *, opted_in: bool
) -> AiSummary:
    """The AI's summary of ``found``, or why there is none; never raises for the AI's sake."""
    settings = await load_settings(session)
    if not settings.enabled:
        return AiSummary(outcome="disabled", note=NOT_SET_UP)
    if not opted_in:
        return AiSummary(outcome="not_opted_in", note=NOT_OPTED_IN)
    messages = build_messages(found, settings)
    size = sum(len(text) for _, text in messages)
    if not await _reserve(caller, settings):
        await _audit(caller, found, settings, _Outcome("budget_exhausted", size, 0, 0))
        return AiSummary(outcome="budget_exhausted", model=settings.model, note=BUDGET_USED)
    started = time.monotonic()
    try:
        reply = await _ask(caller, settings, messages)
    except ChatFailure as failure:
        elapsed = _ms_since(started)
        await _audit(caller, found, settings, _Outcome(failure.outcome, size, 0, elapsed))
        log.info("AI summary failed", extra={"outcome": failure.outcome, "mr_id": found.mr_id})
        return AiSummary(
            outcome=failure.outcome,
            model=settings.model,
            note=f"No AI summary: {failure.note}",
        )
    await _audit(caller, found, settings, _Outcome("ok", size, reply.tokens, _ms_since(started)))
    return AiSummary(outcome="ok", text=reply.text, model=settings.model)


@dataclass(frozen=True)
class _Outcome:
    outcome: AiOutcome
    request_chars: int
    usage: int
    duration_ms: int


async def _reserve(caller: AiCaller, settings: AiSettings) -> bool:
    async with unit_of_work(caller.sessions) as session:
        return await repository.reserve_call(
            session, today(), settings.daily_call_limit, settings.daily_token_limit
        )


async def _ask(
    caller: AiCaller, settings: AiSettings, messages: tuple[tuple[str, str], ...]
) -> ChatReply:
    try:
        key = caller.secrets().get(API_KEY_SECRET)
    except MergeAssistError as refusal:
        raise ChatFailure("failed", f"the API key could not be read ({refusal.code}).") from None
    request = ChatRequest(
        url=settings.chat_url,
        model=settings.model,
        api_key=key,
        messages=messages,
        timeout_seconds=settings.timeout_seconds,
    )
    return await complete(request)


async def _audit(
    caller: AiCaller, found: Explanation, settings: AiSettings, outcome: _Outcome
) -> None:
    """One audit entry per call (and per call refused by the budget); the tokens counted."""
    async with unit_of_work(caller.sessions) as session:
        if outcome.usage:
            await repository.add_tokens(session, today(), outcome.usage)
        await audit.record(
            session,
            actor_id=caller.actor_id,
            actor_name=caller.actor_name,
            action=AUDIT_ACTION,
            success=outcome.outcome == "ok",
            target_type="merge_request",
            target_id=found.mr_id,
            details={
                "project_id": found.project_id,
                "reference": found.reference,
                "model": settings.model,
                "request_chars": outcome.request_chars,
                "usage": outcome.usage,
                "outcome": outcome.outcome,
                "duration_ms": outcome.duration_ms,
            },
        )


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
