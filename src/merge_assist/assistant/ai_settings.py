"""The instance's AI settings as a validated value (pure): where the chat endpoint is, which
model, what may leave, and the limits (time-out, request size, daily budget).

The API key is not part of it: it is the secret :data:`API_KEY_SECRET` of the secrets provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from merge_assist.kit.errors import Unprocessable

API_KEY_SECRET = "assistant-api-key"  # noqa: S105 - the secret's name, not its value
MAX_TIMEOUT_SECONDS = 120
MIN_REQUEST_CHARS = 1_000
MAX_REQUEST_CHARS = 200_000


class AiSettings(BaseModel):
    """How the AI summary is reached and bounded; every field validated, immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    base_url: str = Field(default="", max_length=1024)
    model: str = Field(default="", max_length=255)
    send_titles: bool = False
    send_file_names: bool = False
    send_log_excerpts: bool = False
    timeout_seconds: int = Field(default=20, ge=1, le=MAX_TIMEOUT_SECONDS)
    max_request_chars: int = Field(default=8_000, ge=MIN_REQUEST_CHARS, le=MAX_REQUEST_CHARS)
    daily_call_limit: int | None = Field(default=None, ge=1, le=1_000_000)
    daily_token_limit: int | None = Field(default=None, ge=1, le=1_000_000_000)

    @field_validator("base_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        if not text:
            return ""
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "the base URL is the endpoint's http(s) address, e.g. https://api.example.com/v1"
            )
        if parts.username or parts.password:
            raise ValueError("the base URL may not carry credentials: store the API key instead")
        if parts.query or parts.fragment:
            raise ValueError("the base URL has no query or fragment (…/v1, not …/v1?x=y)")
        return text

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        text = value.strip()
        if any(ch.isspace() for ch in text):
            raise ValueError("a model name has no spaces (e.g. gpt-4o-mini or llama3.1:8b)")
        return text

    @property
    def chat_url(self) -> str:
        """Where chat completions are posted (OpenAI's path under the base URL)."""
        return f"{self.base_url}/chat/completions"


def build_settings(current: AiSettings, changes: Mapping[str, object]) -> AiSettings:
    """``current`` with ``changes`` applied and validated; a 422 with the reasons otherwise.

    Enabling needs a base URL and a model: without them no call could be made."""
    try:
        found = AiSettings.model_validate({**current.model_dump(), **changes})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: "
            + str(error["msg"]).removeprefix("Value error, ")
            for error in exc.errors()
        )
        raise Unprocessable(f"These AI settings cannot be used: {problems}.") from None
    if found.enabled and (not found.base_url or not found.model):
        raise Unprocessable("The AI summary needs a base URL and a model before it can be enabled.")
    return found
