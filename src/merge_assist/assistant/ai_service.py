"""The instance's AI settings (read by anyone's explanation, changed by an admin) and the
daily usage they are bounded by. Flushes, never commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.assistant import repository
from merge_assist.assistant.ai_settings import API_KEY_SECRET, AiSettings, build_settings
from merge_assist.assistant.models import SETTINGS_ROW_ID, AssistantSettingsRow
from merge_assist.assistant.schemas import (
    AssistantSettingsChanges,
    AssistantSettingsOut,
    AssistantUsage,
)
from merge_assist.audit import service as audit
from merge_assist.auth.principal import Principal
from merge_assist.kit.clock import utcnow
from merge_assist.secrets.errors import ProviderReadOnly
from merge_assist.secrets.providers import SecretProvider

FIELDS = tuple(AiSettings.model_fields)


def today() -> date:
    """The UTC day the budget counts."""
    return utcnow().date()


async def load_settings(session: AsyncSession) -> AiSettings:
    """The stored settings, or the defaults (disabled) before an admin saved any."""
    row = await repository.settings_row(session)
    if row is None:
        return AiSettings()
    return AiSettings.model_validate({name: getattr(row, name) for name in FIELDS})


async def settings_out(session: AsyncSession, secrets: SecretProvider) -> AssistantSettingsOut:
    """The settings as an admin sees them: never the key, only whether one is stored."""
    row = await repository.settings_row(session)
    found = await load_settings(session)
    usage = await repository.usage_of(session, today())
    return AssistantSettingsOut(
        **found.model_dump(),
        api_key_set=bool(secrets.get(API_KEY_SECRET)),
        api_key_writable=secrets.writable,
        usage_today=AssistantUsage(
            calls=usage.calls if usage else 0, tokens=usage.tokens if usage else 0
        ),
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by if row else None,
    )


async def update_settings(
    session: AsyncSession,
    admin: Principal,
    secrets: SecretProvider,
    changes: AssistantSettingsChanges,
) -> AiSettings:
    """Apply an admin's changes (validated first; the key goes to the secrets provider) and
    audit which settings changed (names only, never values of the key)."""
    wanted = build_settings(await load_settings(session), changes.changes())
    key_change = _key_change(changes)
    if key_change and not secrets.writable:
        raise ProviderReadOnly(
            f"The {secrets.kind} secrets provider is read-only: store the API key as the secret "
            f"{API_KEY_SECRET!r} where that provider reads it."
        )
    row = await repository.settings_row(session)
    if row is None:
        row = AssistantSettingsRow(id=SETTINGS_ROW_ID)
        session.add(row)
    changed = [name for name in FIELDS if getattr(row, name, None) != getattr(wanted, name)]
    for name in FIELDS:
        setattr(row, name, getattr(wanted, name))
    row.updated_at = utcnow()
    row.updated_by = admin.username
    if key_change == "set" and changes.api_key:
        secrets.set(API_KEY_SECRET, changes.api_key.strip())
    elif key_change == "cleared" and secrets.get(API_KEY_SECRET):
        secrets.delete(API_KEY_SECRET)
    await session.flush()
    await audit.record(
        session,
        actor_id=admin.id,
        actor_name=admin.username,
        action="assistant.settings.updated",
        success=True,
        target_type="assistant",
        details={"changed": changed, "key": key_change or "unchanged", "enabled": wanted.enabled},
    )
    return wanted


def _key_change(changes: AssistantSettingsChanges) -> str | None:
    if changes.clear_api_key:
        return "cleared"
    if changes.api_key is not None and changes.api_key.strip():
        return "set"
    return None
