"""One call to an OpenAI-compatible chat-completions endpoint over HTTP (httpx, no SDK).

``complete`` posts ``{model, messages, max_tokens, temperature}`` to ``<base URL>/chat/completions``
with the API key as a bearer token and returns the first choice's text and the tokens used.
Every way it can go wrong is a :class:`ChatFailure` with an outcome and a short sentence that
never carries the request, the answer's content or the key.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from merge_assist.assistant.schemas import AiOutcome

MAX_ANSWER_BYTES = 256_000
MAX_SUMMARY_CHARS = 4_000
ANSWER_TOKENS = 400


@dataclass(frozen=True)
class ChatRequest:
    """What is posted, where, and how long we wait for the whole answer."""

    url: str
    model: str
    api_key: str | None
    messages: tuple[tuple[str, str], ...]  # (role, content)
    timeout_seconds: float

    def body(self) -> dict[str, Any]:
        """The JSON body of the chat-completions protocol."""
        return {
            "model": self.model,
            "messages": [{"role": role, "content": text} for role, text in self.messages],
            "max_tokens": ANSWER_TOKENS,
            "temperature": 0.2,
        }


@dataclass(frozen=True)
class ChatReply:
    """The first choice's text and the tokens the endpoint counted (0 when it did not say)."""

    text: str
    tokens: int


class ChatFailure(Exception):
    """The endpoint gave no usable answer: ``outcome`` for the audit, ``note`` for people."""

    def __init__(self, outcome: AiOutcome, note: str) -> None:
        super().__init__(note)
        self.outcome: AiOutcome = outcome
        self.note = note


async def complete(
    request: ChatRequest, transport: httpx.AsyncBaseTransport | None = None
) -> ChatReply:
    """Post ``request`` and read the answer, all within ``request.timeout_seconds``."""
    try:
        raw = await asyncio.wait_for(_post(request, transport), request.timeout_seconds)
    except (TimeoutError, httpx.TimeoutException):
        raise ChatFailure(
            "timeout", f"The AI endpoint did not answer within {request.timeout_seconds:g} s."
        ) from None
    except httpx.TransportError as exc:
        raise ChatFailure(
            "unreachable", f"The AI endpoint could not be reached ({type(exc).__name__})."
        ) from None
    return parse_answer(raw)


async def _post(request: ChatRequest, transport: httpx.AsyncBaseTransport | None) -> bytes:
    headers = {"Accept": "application/json"}
    if request.api_key:
        headers["Authorization"] = f"Bearer {request.api_key}"
    timeout = httpx.Timeout(request.timeout_seconds)
    async with (
        httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False) as client,
        client.stream("POST", request.url, json=request.body(), headers=headers) as answer,
    ):
        _check_status(answer.status_code)
        body = bytearray()
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise ChatFailure("bad_answer", "The AI endpoint's answer was too large.")
        return bytes(body)


def _check_status(status: int) -> None:
    if status in (408, 504):
        raise ChatFailure("timeout", f"The AI endpoint timed out (HTTP {status}).")
    if 400 <= status < 500:
        raise ChatFailure("refused", f"The AI endpoint refused the request (HTTP {status}).")
    if status >= 500:
        raise ChatFailure("failed", f"The AI endpoint failed (HTTP {status}).")
    if status != 200:
        raise ChatFailure("bad_answer", f"The AI endpoint answered HTTP {status}, not 200.")


def parse_answer(raw: bytes) -> ChatReply:
    """The first choice's text; ``refused`` when the model declined, ``bad_answer`` when the
    body is not the protocol's (pure)."""
    bad = ChatFailure("bad_answer", "The AI endpoint's answer was not a chat completion.")
    try:
        found = json.loads(raw)
        message = found["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise bad from None
    if not isinstance(message, dict):
        raise bad
    if message.get("refusal"):
        raise ChatFailure("refused", "The AI model declined to summarise this merge request.")
    text = message.get("content")
    if not isinstance(text, str) or not text.strip():
        raise bad
    usage = found.get("usage") if isinstance(found, dict) else None
    tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
    count = tokens if isinstance(tokens, int) and tokens >= 0 else 0
    return ChatReply(text=text.strip()[:MAX_SUMMARY_CHARS], tokens=count)
